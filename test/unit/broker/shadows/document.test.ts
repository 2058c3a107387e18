import { applyUpdate, DEFAULT_LIMITS, deltaOf, getDocument, parsePayload, validateUpdate, type JsonObject, type ShadowState } from '../../../../broker/shadows/document.js';

const T1 = 1_700_000_000;
const T2 = T1 + 60;

/** validate + apply, as the service does */
function update(current: ShadowState | undefined, body: JsonObject, now = T1, limits = DEFAULT_LIMITS, base = 0) {
  return applyUpdate(current, validateUpdate(body, limits), now, limits, base);
}

function rejectionOf(run: () => unknown): { code: string; statusCode: number; message: string } {
  try {
    run();
  } catch (err) {
    return err as { code: string; statusCode: number; message: string };
  }
  throw new Error('expected a rejection');
}

describe('the shadow document model', () => {
  it('creates a shadow at version 1 with per-leaf metadata timestamps in epoch seconds', () => {
    const { shadow, accepted } = update(undefined, { state: { reported: { temp: 20, mode: { fan: 'on' } } } });
    expect(shadow).toEqual({
      state: { reported: { temp: 20, mode: { fan: 'on' } } },
      metadata: { reported: { temp: { timestamp: T1 }, mode: { fan: { timestamp: T1 } } } },
      version: 1,
      timestamp: T1,
    });
    expect(accepted).toEqual({ state: { reported: { temp: 20, mode: { fan: 'on' } } }, metadata: { reported: { temp: { timestamp: T1 }, mode: { fan: { timestamp: T1 } } } }, version: 1, timestamp: T1 });
  });

  it('merges nested objects and keeps the timestamps of fields the update did not touch', () => {
    const first = update(undefined, { state: { reported: { a: 1, nested: { x: 1, y: 2 } } } }).shadow;
    const { shadow } = update(first, { state: { reported: { nested: { y: 3 } } } }, T2);
    expect(shadow.state.reported).toEqual({ a: 1, nested: { x: 1, y: 3 } });
    expect(shadow.metadata.reported).toEqual({ a: { timestamp: T1 }, nested: { x: { timestamp: T1 }, y: { timestamp: T2 } } });
    expect(shadow.version).toBe(2);
  });

  it('removes a field set to null, and an object left empty by removals', () => {
    const first = update(undefined, { state: { desired: { a: 1, b: { c: 1 } } } }).shadow;
    const { shadow } = update(first, { state: { desired: { a: null, b: { c: null } } } });
    expect(shadow.state).toEqual({});
    expect(shadow.metadata).toEqual({});
    expect(shadow.version).toBe(2);
  });

  it('removes a whole section set to null, and clears both with state null while keeping the version', () => {
    const first = update(undefined, { state: { desired: { a: 1 }, reported: { a: 2 } } }).shadow;
    const noDesired = update(first, { state: { desired: null } }).shadow;
    expect(noDesired.state).toEqual({ reported: { a: 2 } });
    const cleared = update(noDesired, { state: null }).shadow;
    expect(cleared).toMatchObject({ state: {}, metadata: {}, version: 3 });
  });

  it('replaces arrays whole and gives each element its own timestamp', () => {
    const first = update(undefined, { state: { reported: { rgb: [1, 2, 3] } } }).shadow;
    const { shadow } = update(first, { state: { reported: { rgb: [9] } } }, T2);
    expect(shadow.state.reported).toEqual({ rgb: [9] });
    expect(shadow.metadata.reported).toEqual({ rgb: [{ timestamp: T2 }] });
  });

  it('computes the delta from desired fields that are absent from reported or differ, keeping nested paths', () => {
    const { shadow, delta } = update(undefined, {
      state: {
        desired: { color: 'red', same: 1, light: { on: true, level: 5 }, list: [1, 2] },
        reported: { color: 'blue', same: 1, light: { on: true, level: 3 }, list: [1, 2], onlyReported: 7 },
      },
    });
    expect(delta).toEqual({
      version: 1,
      timestamp: T1,
      state: { color: 'red', light: { level: 5 } },
      metadata: { color: { timestamp: T1 }, light: { level: { timestamp: T1 } } },
    });
    expect(deltaOf(shadow)?.state).toEqual({ color: 'red', light: { level: 5 } });
  });

  it('lists every differing desired field in the delta, not only the ones just updated', () => {
    const first = update(undefined, { state: { desired: { a: 1, b: 2 } } }).shadow;
    const { delta } = update(first, { state: { desired: { b: 3 } } });
    expect(delta?.state).toEqual({ a: 1, b: 3 });
  });

  it('publishes no delta once reported matches desired', () => {
    const first = update(undefined, { state: { desired: { a: [1, 2] } } }).shadow;
    const result = update(first, { state: { reported: { a: [1, 2] } } });
    expect(result.delta).toBeUndefined();
    expect(getDocument(result.shadow, T2).state).toEqual({ desired: { a: [1, 2] }, reported: { a: [1, 2] } });
  });

  it('includes the delta in the full document only while desired and reported differ', () => {
    const { shadow } = update(undefined, { state: { desired: { a: 1 }, reported: { a: 2 } } });
    expect(getDocument(shadow, T2, 'tok')).toEqual({
      state: { desired: { a: 1 }, reported: { a: 2 }, delta: { a: 1 } },
      metadata: { desired: { a: { timestamp: T1 } }, reported: { a: { timestamp: T1 } } },
      version: 1,
      timestamp: T2,
      clientToken: 'tok',
    });
  });

  it('accepts an update naming the current version and rejects any other with 409 Version conflict', () => {
    const first = update(undefined, { state: { reported: { a: 1 } } }).shadow;
    expect(update(first, { state: { reported: { a: 2 } }, version: 1 }).shadow.version).toBe(2);
    expect(rejectionOf(() => update(first, { state: { reported: { a: 2 } }, version: 0 }))).toMatchObject({ code: 'ConflictException', statusCode: 409, message: 'Version conflict' });
  });

  it('continues from the version of a recently deleted shadow', () => {
    expect(update(undefined, { state: { reported: { a: 1 } } }, T1, DEFAULT_LIMITS, 7).shadow.version).toBe(8);
  });

  it('echoes the clientToken in the accepted, delta and documents messages', () => {
    const r = update(undefined, { state: { desired: { a: 1 } }, clientToken: 'abc' });
    expect(r.accepted.clientToken).toBe('abc');
    expect(r.delta?.clientToken).toBe('abc');
    expect(r.documents.clientToken).toBe('abc');
  });

  it('gives /update/documents the previous and current state with their versions', () => {
    const first = update(undefined, { state: { reported: { a: 1 } } }).shadow;
    const { documents } = update(first, { state: { reported: { a: 2 } } }, T2);
    expect(documents).toEqual({
      previous: { state: { reported: { a: 1 } }, metadata: { reported: { a: { timestamp: T1 } } }, version: 1 },
      current: { state: { reported: { a: 2 } }, metadata: { reported: { a: { timestamp: T2 } } }, version: 2 },
      timestamp: T2,
    });
  });

  it('rejects a state over 8 KB with 413 and accepts one just under', () => {
    const big = 'x'.repeat(8192 - '{"reported":{"s":""}}'.length);
    expect(update(undefined, { state: { reported: { s: big } } }).shadow.version).toBe(1);
    expect(rejectionOf(() => update(undefined, { state: { reported: { s: big + 'x' } } }))).toMatchObject({
      code: 'RequestEntityTooLargeException', statusCode: 413, message: 'The payload exceeds the maximum size allowed',
    });
  });

  it('rejects nesting deeper than 6 levels and accepts 6', () => {
    const nest = (levels: number): JsonObject => (levels === 1 ? { leaf: 1 } : { n: nest(levels - 1) });
    expect(update(undefined, { state: { desired: nest(6) } }).shadow.version).toBe(1);
    expect(rejectionOf(() => update(undefined, { state: { desired: nest(7) } }))).toMatchObject({
      code: 'InvalidRequestException', statusCode: 400, message: 'JSON contains too many levels of nesting; maximum is 6',
    });
  });

  it.each([
    ['a payload that is not JSON', () => parsePayload('{nope'), 'Invalid JSON'],
    ['a payload that is a JSON array', () => parsePayload('[1]'), 'Invalid JSON'],
    ['an update without state', () => validateUpdate({ version: 1 }, DEFAULT_LIMITS), 'Missing required node: state'],
    ['a state that is not an object', () => validateUpdate({ state: 3 }, DEFAULT_LIMITS), 'State node must be an object'],
    ['a desired that is not an object', () => validateUpdate({ state: { desired: [1] } }, DEFAULT_LIMITS), 'Desired node must be an object'],
    ['a reported that is not an object', () => validateUpdate({ state: { reported: 'x' } }, DEFAULT_LIMITS), 'Reported node must be an object'],
    ['a state with a node other than desired and reported', () => validateUpdate({ state: { delta: {} } }, DEFAULT_LIMITS), 'State contains an invalid node'],
    ['an array holding null', () => validateUpdate({ state: { reported: { a: [1, null] } } }, DEFAULT_LIMITS), 'State contains an invalid node'],
    ['a version that is not a whole number', () => validateUpdate({ state: {}, version: 1.5 }, DEFAULT_LIMITS), 'Invalid version'],
    ['a clientToken over 64 bytes', () => validateUpdate({ state: {}, clientToken: 'x'.repeat(65) }, DEFAULT_LIMITS), 'Invalid clientToken'],
  ])('rejects %s with 400 and the AWS message', (_what, run, message) => {
    expect(rejectionOf(run)).toEqual(expect.objectContaining({ code: 'InvalidRequestException', statusCode: 400, message }));
  });
});
