import { compileSingleActivity } from '../../../../analytics/pipelines/index.js';
import type { PipelineActivity, PipelineMessage } from '../../../../analytics/types.js';

function run(activity: PipelineActivity, m: PipelineMessage): PipelineMessage | null {
  return compileSingleActivity(activity)(m);
}

describe('filter activity', () => {
  const f = (expr: string) => ({ filter: { name: 'f', filter: expr } });
  it('passes a message whose expression is true, unchanged', () => {
    const m = { temp: 50 };
    expect(run(f('temp > 40'), m)).toBe(m);
  });
  it('drops a message whose filter is false', () => {
    expect(run(f('temp > 40'), { temp: 10 })).toBeNull();
  });
  it('drops a message whose filter is Undefined because the attribute is missing', () => {
    expect(run(f('temp > 40'), { hum: 10 })).toBeNull();
  });
  it('drops a message whose filter is not a Boolean', () => {
    expect(run(f('temp + 1'), { temp: 10 })).toBeNull();
  });
});

describe('math activity', () => {
  const m = (math: string, attribute = 'out') => ({ math: { name: 'm', attribute, math } });
  it('appends the result as the last key and leaves the input untouched', () => {
    const input = { a: 2, b: 3 };
    const out = run(m('a * b'), input)!;
    expect(Object.keys(out)).toEqual(['a', 'b', 'out']);
    expect(out.out).toBe(6);
    expect(input).toEqual({ a: 2, b: 3 });
  });
  it('replaces an existing target and moves it to the end', () => {
    const out = run(m('a + 1', 'a'), { a: 1, b: 2 })!;
    expect(out).toEqual({ b: 2, a: 2 });
    expect(Object.keys(out)).toEqual(['b', 'a']);
  });
  it('leaves the message unchanged (attribute omitted) when the result is Undefined', () => {
    expect(run(m('a / 0'), { a: 1 })).toEqual({ a: 1 });
    expect(run(m('missing + 1'), { a: 1 })).toEqual({ a: 1 });
    expect(run(m("sqrt(a)"), { a: -1 })).toEqual({ a: -1 });
  });
  it('converts numeric strings and nested paths', () => {
    expect(run(m('s * 2 + d.v[1]'), { s: '2.5', d: { v: [0, 10] } })!.out).toBe(15);
  });
});

describe('addAttributes activity', () => {
  const add = (attributes: Record<string, string>) => ({ addAttributes: { name: 'a', attributes } });
  it('copies nested values and array elements to new root attributes, keeping the sources', () => {
    expect(run(add({ 'd.id': 'id', 'd.c[1]': 'lon' }), { d: { id: 'x', c: [1, 2] } })).toEqual({ d: { id: 'x', c: [1, 2] }, id: 'x', lon: 2 });
  });
  it('adds nothing for a missing source path', () => {
    expect(run(add({ 'd.nope': 'n', 'x[3]': 'y' }), { d: {}, x: [1] })).toEqual({ d: {}, x: [1] });
  });
  it('overwrites an existing attribute of the new name in place', () => {
    const out = run(add({ b: 'a' }), { a: 1, b: 2 })!;
    expect(out).toEqual({ a: 2, b: 2 });
    expect(Object.keys(out)).toEqual(['a', 'b']);
  });
});

describe('removeAttributes activity', () => {
  const rm = (attributes: string[]) => ({ removeAttributes: { name: 'r', attributes } });
  it('removes top-level and nested attributes without touching the input', () => {
    const input = { a: 1, d: { x: 1, y: 2 }, keep: true };
    expect(run(rm(['a', 'd.x']), input)).toEqual({ d: { y: 2 }, keep: true });
    expect(input).toEqual({ a: 1, d: { x: 1, y: 2 }, keep: true });
  });
  it('removes an array element by index and ignores missing paths', () => {
    expect(run(rm(['v[1]', 'nope', 'v[9]']), { v: [1, 2, 3] })).toEqual({ v: [1, 3] });
  });
  it('matches attribute names case-insensitively', () => {
    expect(run(rm(['TEMP']), { temp: 1, hum: 2 })).toEqual({ hum: 2 });
  });
});

describe('selectAttributes activity', () => {
  const sel = (attributes: string[]) => ({ selectAttributes: { name: 's', attributes } });
  it('builds a new message with the listed attributes at the root, nested ones under their last name', () => {
    expect(run(sel(['device.temp', 'hum', 'loc']), { device: { temp: 21, id: 'x' }, hum: 40, loc: { lat: 1 }, other: 5 })).toEqual({ temp: 21, hum: 40, loc: { lat: 1 } });
  });
  it('leaves out missing attributes and lets the later of two colliding selections win', () => {
    expect(run(sel(['a.v', 'b.v', 'nope']), { a: { v: 1 }, b: { v: 2 } })).toEqual({ v: 2 });
  });
  it('yields an empty message when nothing is selected', () => {
    expect(run(sel(['x']), { y: 1 })).toEqual({});
  });
});

describe('compileSingleActivity', () => {
  it('refuses channel and datastore activities', () => {
    expect(() => compileSingleActivity({ channel: { name: 'c', channelName: 'x', next: 'y' } })).toThrow(/cannot be run on its own/);
    expect(() => compileSingleActivity({ datastore: { name: 'd', datastoreName: 'x' } })).toThrow(/cannot be run on its own/);
  });
});
