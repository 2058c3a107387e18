import { FaultInjector, type FaultTarget } from '../../../devices-sim/fault-injector.js';
import { parseFaultSpec } from '../../../devices-sim/faults.js';

/** A device that records what happened to it and when. */
function targets(indexes: number[]) {
  const log: string[] = [];
  let now = 0;
  const list: FaultTarget[] = indexes.map((index) => ({
    index,
    dropConnection: () => void log.push(`${now} drop ${index}`),
    vanish: () => void log.push(`${now} vanish ${index}`),
  }));
  return { list, log, at: (ms: number) => (now = ms) };
}

function run(injector: FaultInjector, at: (ms: number) => number, times: number[]): void {
  for (const ms of times) injector.tick(at(ms));
}

describe('FaultInjector', () => {
  it('drops every device once, in one tick, at the storm time and never again', () => {
    const t = targets([1, 2, 3]);
    const injector = new FaultInjector([parseFaultSpec('reconnect-storm@2')], 3, t.list);
    run(injector, t.at, [0, 1000, 1999, 2000, 2010, 5000]);
    expect(t.log).toEqual(['2000 drop 1', '2000 drop 2', '2000 drop 3']);
  });

  it('makes the last N devices vanish at the given time', () => {
    const t = targets([1, 2, 3, 4]);
    run(new FaultInjector([parseFaultSpec('abrupt-disconnect:2@1')], 4, t.list), t.at, [0, 1500, 3000]);
    expect(t.log).toEqual(['1500 vanish 3', '1500 vanish 4']);
  });

  it('drops each flapping device once per period, their drops spread evenly over the period', () => {
    const t = targets([1, 2, 3, 4]);
    const injector = new FaultInjector([parseFaultSpec('flapping:2@1:4s')], 4, t.list);
    run(injector, t.at, [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 9000]);
    // device 1 at 1 s, 5 s, 9 s; device 2 half a period later, at 3 s and 7 s
    expect(t.log).toEqual(['1000 drop 1', '3000 drop 2', '5000 drop 1', '7000 drop 2', '9000 drop 1']);
  });

  it('catches up on drops a stalled tick missed, in their order', () => {
    const t = targets([1, 2]);
    run(new FaultInjector([parseFaultSpec('flapping:2@0:2s')], 2, t.list), t.at, [0, 4500]);
    expect(t.log).toEqual(['0 drop 1', '4500 drop 2', '4500 drop 1', '4500 drop 2', '4500 drop 1']);
  });

  it('in a shard, touches only the devices of its slice, chosen by their index in the whole fleet', () => {
    // shard 1 of 2 of a fleet of 6 holds devices 2, 4 and 6
    const t = targets([2, 4, 6]);
    const injector = new FaultInjector([parseFaultSpec('flapping:3@0:10s'), parseFaultSpec('abrupt-disconnect:1@0')], 6, t.list);
    injector.tick(t.at(0));
    expect(t.log).toEqual(['0 vanish 6']); // flapping devices 1..3: only 2 is here, first due at 10/3 s
    injector.tick(t.at(3400));
    expect(t.log.at(-1)).toBe('3400 drop 2');
  });
});
