import { compilePipeline } from '../../../../analytics/pipelines/index.js';
import type { PipelineActivity, PipelineDefinition } from '../../../../analytics/types.js';

const ch = (next = 'f'): PipelineActivity => ({ channel: { name: 'c', channelName: 'chan', next } });
const ds = (): PipelineActivity => ({ datastore: { name: 'd', datastoreName: 'store' } });
const filter = (name = 'f', next = 'd', expr = 'temp > 40'): PipelineActivity => ({ filter: { name, filter: expr, next } });

function def(activities: PipelineActivity[], pipelineName = 'p1'): PipelineDefinition {
  return { pipelineName, pipelineActivities: activities };
}

function compileError(d: PipelineDefinition): { code: string; statusCode: number; message: string } {
  try {
    compilePipeline(d);
  } catch (e) {
    return e as { code: string; statusCode: number; message: string };
  }
  throw new Error('expected compilePipeline to throw');
}

describe('compilePipeline', () => {
  it('follows next links rather than array order', () => {
    const p = compilePipeline(def([ds(), filter(), ch()]));
    expect(p.order).toEqual(['c', 'f', 'd']);
    expect(p.channelName).toBe('chan');
    expect(p.datastoreName).toBe('store');
    expect(p.process({ temp: 50 })).toEqual({ temp: 50 });
    expect(p.process({ temp: 10 })).toBeNull();
  });

  it('counts in, out and dropped per activity', () => {
    const p = compilePipeline(def([ch(), filter(), ds()]));
    p.process({ temp: 50 });
    p.process({ temp: 10 });
    p.process({ other: 1 });
    const c = p.counters();
    expect(c.c).toMatchObject({ type: 'channel', in: 3, out: 3, dropped: 0 });
    expect(c.f).toMatchObject({ type: 'filter', in: 3, out: 1, dropped: 2, errors: 0 });
    expect(c.d).toMatchObject({ type: 'datastore', in: 1, out: 1, dropped: 0 });
  });

  it('drops a message left without attributes at the datastore activity', () => {
    const p = compilePipeline(def([ch('r'), { removeAttributes: { name: 'r', attributes: ['a'], next: 'd' } }, ds()]));
    expect(p.process({ a: 1 })).toBeNull();
    expect(p.counters().d.dropped).toBe(1);
    expect(p.process({ a: 1, b: 2 })).toEqual({ b: 2 });
  });

  it.each([
    ['an activity with two types', [{ ...ch(), ...ds() }, ds()], /exactly one activity type/],
    ['an empty activity object', [ch(), {}, ds()], /exactly one activity type/],
    ['an unknown activity type', [ch('x'), { teleport: { name: 'x', next: 'd' } }, ds()], /unknown activity type "teleport"/],
    ['a lambda activity without a lambda host', [ch('l'), { lambda: { name: 'l', lambdaName: 'fn', batchSize: 1, next: 'd' } }, ds()], /runs no lambda functions/],
    ['a deviceShadowEnrich activity with a short roleArn', [ch('e'), { deviceShadowEnrich: { name: 'e', attribute: 'a', thingName: 't', roleArn: 'r', next: 'd' } }, ds()], /roleArn must be a string of 20..2048/],
    ['a missing channel activity', [filter(), ds()], /channel activity is required/],
    ['a missing datastore activity', [ch(), filter('f', 'd')], /datastore activity is required/],
    ['no datastore at all', [ch('c')], /datastore activity is required/],
    ['duplicate activity names', [ch(), filter(), filter(), ds()], /used twice/],
    ['a next that names nothing', [ch('nowhere'), ds()], /unknown next "nowhere"/],
    ['a cycle', [ch('f'), filter('f', 'g'), filter('g', 'f'), ds()], /cycle/],
    ['an unreachable activity', [ch('d'), filter('orphan', 'd'), ds()], /not reachable.*orphan/],
    ['a chain that stops before the datastore', [ch(), { filter: { name: 'f', filter: 'a > 1' } }, ds()], /needs a next/],
    ['a next pointing back at the channel', [ch('f'), filter('f', 'c'), ds()], /reached twice|channel activity must be first/],
    ['a datastore with next', [ch('d'), { datastore: { name: 'd', datastoreName: 's', next: 'c' } as never }], /must be the last activity/],
    ['an invalid filter expression', [ch(), filter('f', 'd', 'temp >'), ds()], /filter expression/],
    ['an unknown function', [ch('m'), { math: { name: 'm', attribute: 'x', math: 'frobnicate(1)', next: 'd' } }, ds()], /unknown function frobnicate/],
    ['a wrong argument count', [ch('m'), { math: { name: 'm', attribute: 'x', math: 'atan2(1)', next: 'd' } }, ds()], /takes 2 argument/],
    ['a comparison in a math expression', [ch('m'), { math: { name: 'm', attribute: 'x', math: 'a > 1', next: 'd' } }, ds()], /not allowed in a math expression/],
    ['an unknown member', [ch('s'), { selectAttributes: { name: 's', attribute: ['a'], next: 'd' } as never }, ds()], /unknown member "attribute"/],
    ['an empty attribute list', [ch('s'), { selectAttributes: { name: 's', attributes: [], next: 'd' } }, ds()], /1\.\.50/],
    ['an invalid path', [ch('s'), { selectAttributes: { name: 's', attributes: ['a..b'], next: 'd' } }, ds()], /not a valid path/],
    ['a filter over 256 characters', [ch(), filter('f', 'd', 'a > 1 AND '.repeat(30) + 'b > 1'), ds()], /1\.\.256/],
  ])('refuses %s with InvalidRequestException', (_what, activities, message) => {
    const e = compileError(def(activities as PipelineActivity[]));
    expect(e.code).toBe('InvalidRequestException');
    expect(e.statusCode).toBe(400);
    expect(e.message).toMatch(message);
  });

  it('refuses an empty list and more than 25 activities', () => {
    expect(compileError(def([])).message).toMatch(/1\.\.25/);
    const many: PipelineActivity[] = [ch('f0')];
    for (let i = 0; i < 24; i++) many.push(filter(`f${i}`, i === 23 ? 'd' : `f${i + 1}`, 'a > 1'));
    many.push(ds());
    expect(many).toHaveLength(26);
    expect(compileError(def(many)).message).toMatch(/1\.\.25/);
    expect(() => compilePipeline(def(many.filter((a) => !(a.filter && a.filter.name === 'f23')).map((a) => (a.filter?.name === 'f22' ? { filter: { ...a.filter, next: 'd' } } : a))))).not.toThrow();
  });

  it('refuses an invalid pipeline name', () => {
    expect(compileError(def([ch('d'), ds()], 'bad-name')).message).toMatch(/pipelineName/);
  });

  it('accepts the minimal channel → datastore pipeline', () => {
    const p = compilePipeline(def([ch('d'), ds()]));
    expect(p.process({ a: 1 })).toEqual({ a: 1 });
  });
});
