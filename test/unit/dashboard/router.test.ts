import { navSection, parseHash, routeHash } from '../../../dashboard/src/shell/router.js';

describe('the hash router', () => {
  it('shows the fleet for an empty, bare or unknown hash', () => {
    for (const hash of ['', '#', '#/', '#/nowhere', '#/nowhere/x']) expect(parseHash(hash)).toEqual({ name: 'fleet', params: [] });
  });

  it('reads each section and the device id of a device route', () => {
    expect(parseHash('#/alerts')).toEqual({ name: 'alerts', params: [] });
    expect(parseHash('#/rules')).toEqual({ name: 'rules', params: [] });
    expect(parseHash('#/datasets/fleet_summary')).toEqual({ name: 'datasets', params: ['fleet_summary'] });
    expect(parseHash('#/device/sensor-1')).toEqual({ name: 'device', params: ['sensor-1'] });
  });

  it('decodes escaped device ids and round-trips them through routeHash', () => {
    const id = 'plant a/b#7:c';
    expect(routeHash('device', id)).toBe('#/device/plant%20a%2Fb%237%3Ac');
    expect(parseHash(routeHash('device', id))).toEqual({ name: 'device', params: [id] });
  });

  it('shows the fleet for a device route without an id or with a malformed escape', () => {
    expect(parseHash('#/device')).toEqual({ name: 'fleet', params: [] });
    expect(parseHash('#/device/')).toEqual({ name: 'fleet', params: [] });
    expect(parseHash('#/device/%E0%A4%A')).toEqual({ name: 'fleet', params: [] });
  });

  it('highlights the fleet in the nav while a device is shown', () => {
    expect(navSection({ name: 'device', params: ['a'] })).toBe('fleet');
    expect(navSection({ name: 'rules', params: [] })).toBe('rules');
  });
});
