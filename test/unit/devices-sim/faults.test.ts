import { faultDeviceIndexes, formatFaultSpec, parseFaultSpec } from '../../../devices-sim/faults.js';
import { errorOf } from './sim-error.js';

describe('parseFaultSpec', () => {
  it('reads a reconnect storm of the whole fleet, or of its first N devices', () => {
    expect(parseFaultSpec('reconnect-storm@20')).toEqual({ kind: 'reconnect-storm', devices: { all: true }, atS: 20, periodS: null });
    expect(parseFaultSpec('reconnect-storm:5@2.5')).toEqual({ kind: 'reconnect-storm', devices: { count: 5 }, atS: 2.5, periodS: null });
  });

  it('reads flapping with a count or a share of the fleet, and a period that defaults to 10 s', () => {
    expect(parseFaultSpec('flapping:3@5:4s')).toEqual({ kind: 'flapping', devices: { count: 3 }, atS: 5, periodS: 4 });
    expect(parseFaultSpec('flapping:25%@0')).toEqual({ kind: 'flapping', devices: { fraction: 0.25 }, atS: 0, periodS: 10 });
    expect(parseFaultSpec('FLAPPING:0.5@1:1.5s')).toEqual({ kind: 'flapping', devices: { fraction: 0.5 }, atS: 1, periodS: 1.5 });
  });

  it('reads an abrupt disconnect of N devices', () => {
    expect(parseFaultSpec('abrupt-disconnect:2@30')).toEqual({ kind: 'abrupt-disconnect', devices: { count: 2 }, atS: 30, periodS: null });
  });

  it('writes a spec back in the form it was given', () => {
    for (const text of ['reconnect-storm@20', 'reconnect-storm:5@2.5', 'flapping:3@5:4s', 'flapping:25%@0:10s', 'abrupt-disconnect:2@30']) {
      expect(formatFaultSpec(parseFaultSpec(text))).toBe(text);
    }
  });

  it.each([
    ['storm@3', 'unknown kind "storm"'],
    ['reconnect-storm', 'expected reconnect-storm[:N]@SECONDS'],
    ['flapping@3', 'flapping needs a number of devices'],
    ['abrupt-disconnect@3', 'abrupt-disconnect needs a number of devices'],
    ['flapping:0@3', 'devices "0" must be a count'],
    ['flapping:150%@3', 'devices "150%" must be a count'],
    ['flapping:1.5@3', 'devices "1.5" must be a count'],
    ['flapping:2@-1', 'start "-1" must be a number of seconds >= 0'],
    ['flapping:2@x', 'start "x" must be a number of seconds >= 0'],
    ['flapping:2@1:4', 'period "4" must be seconds followed by "s"'],
    ['flapping:2@1:0.5s', 'period "0.5s" must be at least 1s'],
    ['reconnect-storm@1:4s', 'only flapping takes a period'],
    ['abrupt-disconnect:1:2@1', 'expected reconnect-storm[:N]@SECONDS'],
  ])('rejects "%s" with a coded error that quotes it and says why', (text, why) => {
    const error = errorOf(() => parseFaultSpec(text));
    expect(error.code).toBe('InvalidArgumentException');
    expect(error.message).toContain(`fault "${text}"`);
    expect(error.message).toContain(why);
  });
});

describe('the devices a fault hits', () => {
  it('are the first N for a storm and flapping, and the last N for an abrupt disconnect', () => {
    expect(faultDeviceIndexes(parseFaultSpec('reconnect-storm@1'), 4)).toEqual([1, 2, 3, 4]);
    expect(faultDeviceIndexes(parseFaultSpec('flapping:2@1'), 10)).toEqual([1, 2]);
    expect(faultDeviceIndexes(parseFaultSpec('abrupt-disconnect:3@1'), 10)).toEqual([8, 9, 10]);
  });

  it('round a share of the fleet to whole devices, at least one', () => {
    expect(faultDeviceIndexes(parseFaultSpec('flapping:25%@1'), 10)).toEqual([1, 2, 3]);
    expect(faultDeviceIndexes(parseFaultSpec('flapping:0.01@1'), 10)).toEqual([1]);
  });

  it('cannot be more than the fleet has', () => {
    const error = errorOf(() => faultDeviceIndexes(parseFaultSpec('abrupt-disconnect:11@1'), 10));
    expect(error.code).toBe('InvalidArgumentException');
    expect(error.message).toContain('11 devices, but the fleet has only 10');
  });
});
