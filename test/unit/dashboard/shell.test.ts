import { ApiError } from '../../../dashboard/src/api.js';
import { createRedrawScheduler } from '../../../dashboard/src/shell/redraw.js';
import { signInFailureText } from '../../../dashboard/src/shell/signin.js';
import { describeLiveState } from '../../../dashboard/src/shell/status.js';
import { parseDesired, prettySide, shadowPath } from '../../../dashboard/src/views/device-shadow.js';

describe('redraw scheduling', () => {
  it('draws at most once per animation frame however often it is asked', () => {
    const frames: (() => void)[] = [];
    let draws = 0;
    const scheduler = createRedrawScheduler(
      () => draws++,
      (cb) => frames.push(cb),
      () => {},
    );
    scheduler.request();
    scheduler.request();
    scheduler.request();
    expect(frames).toHaveLength(1);
    frames.shift()!();
    expect(draws).toBe(1);
    scheduler.request();
    expect(frames).toHaveLength(1);
  });

  it('drops a pending redraw when cancelled', () => {
    const cancelled: number[] = [];
    const scheduler = createRedrawScheduler(
      () => {},
      () => 42,
      (handle) => cancelled.push(handle),
    );
    scheduler.request();
    scheduler.cancel();
    expect(cancelled).toEqual([42]);
  });
});

describe('the live status line', () => {
  it('says what the socket is doing', () => {
    expect(describeLiveState({ kind: 'connecting', attempt: 0 })).toBe('connecting…');
    expect(describeLiveState({ kind: 'connecting', attempt: 2 })).toBe('connecting (attempt 3)…');
    expect(describeLiveState({ kind: 'live', datastores: ['telemetry_store'] })).toBe('live: telemetry_store');
    expect(describeLiveState({ kind: 'reconnecting', inMs: 1500, attempt: 1 })).toBe('disconnected, retrying in 2 s');
    expect(describeLiveState({ kind: 'stopped' })).toBe('stopped');
  });
});

describe('sign-in failures', () => {
  it('tells a wrong password, throttling and an unreachable server apart', () => {
    expect(signInFailureText(new ApiError('NotSignedIn', 'bad credentials', 401))).toBe('Wrong username or password.');
    expect(signInFailureText(new ApiError('TooManyRequestsException', 'retry in 30 s', 429))).toBe('Too many attempts: retry in 30 s');
    expect(signInFailureText(new ApiError('NetworkError', 'cannot reach the server: x', 0))).toBe('NetworkError: cannot reach the server: x');
  });
});

describe('the shadow editor', () => {
  it('accepts a JSON object as the desired state', () => {
    expect(parseDesired('{"led": "on", "rate": 2}')).toEqual({ ok: true, value: { led: 'on', rate: 2 } });
  });

  it('refuses text that is not JSON, and JSON that is not an object', () => {
    expect(parseDesired('{led: on}')).toMatchObject({ ok: false, error: expect.stringMatching(/^Not valid JSON/) });
    for (const text of ['[1]', 'null', '42', '"on"']) expect(parseDesired(text)).toMatchObject({ ok: false, error: expect.stringMatching(/must be a JSON object/) });
  });

  it('addresses the thing’s classic shadow with its name escaped, and shows an absent side as a dash', () => {
    expect(shadowPath('a b/c')).toBe('/things/a%20b%2Fc/shadow');
    expect(prettySide(undefined)).toBe('—');
    expect(prettySide({ a: 1 })).toBe('{\n  "a": 1\n}');
  });
});
