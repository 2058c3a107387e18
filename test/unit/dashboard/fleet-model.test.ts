import type { FleetDevice } from '../../../broker/contract.js';
import { filterFleet, formatLatestValues, lastSeenOf, matchesQuery, NO_FILTER, summarize } from '../../../dashboard/src/views/fleet-model.js';

function device(thingName: string, extra: Partial<FleetDevice> = {}): FleetDevice {
  return { thingName, registered: true, attributes: {}, groups: [], connected: false, messagesPerMinute: 0, messages: 0, openAlerts: 0, ...extra };
}

const fleet = [
  device('sim-10', { connected: true, attributes: { site: 'Berlin', floor: '2' } }),
  device('sim-2', { connected: false, openAlerts: 3, attributes: { site: 'Lyon' } }),
  device('sim-1', { connected: true, openAlerts: 1 }),
  device('pump-7', { attributes: { kind: 'pump' } }),
];

describe('fleet filtering', () => {
  it('lists every device by name, numbers compared as numbers, when nothing is filtered', () => {
    expect(filterFleet(fleet, NO_FILTER).map((d) => d.thingName)).toEqual(['pump-7', 'sim-1', 'sim-2', 'sim-10']);
  });

  it('matches the search against the name and attribute names and values, ignoring case', () => {
    expect(filterFleet(fleet, { ...NO_FILTER, query: 'SIM-1' }).map((d) => d.thingName)).toEqual(['sim-1', 'sim-10']);
    expect(filterFleet(fleet, { ...NO_FILTER, query: 'berlin' }).map((d) => d.thingName)).toEqual(['sim-10']);
    expect(filterFleet(fleet, { ...NO_FILTER, query: 'kind' }).map((d) => d.thingName)).toEqual(['pump-7']);
    expect(filterFleet(fleet, { ...NO_FILTER, query: 'floor=2' }).map((d) => d.thingName)).toEqual(['sim-10']);
    expect(matchesQuery(fleet[0], '   ')).toBe(true);
  });

  it('combines the connected-only and open-alerts filters with the search', () => {
    expect(filterFleet(fleet, { ...NO_FILTER, connectedOnly: true }).map((d) => d.thingName)).toEqual(['sim-1', 'sim-10']);
    expect(filterFleet(fleet, { ...NO_FILTER, withAlerts: true }).map((d) => d.thingName)).toEqual(['sim-1', 'sim-2']);
    expect(filterFleet(fleet, { query: 'sim', connectedOnly: true, withAlerts: true }).map((d) => d.thingName)).toEqual(['sim-1']);
  });

  it('does not reorder the list it was given', () => {
    filterFleet(fleet, NO_FILTER);
    expect(fleet[0].thingName).toBe('sim-10');
  });

  it('counts devices, connected ones and ones with open alerts', () => {
    expect(summarize(fleet)).toEqual({ devices: 4, connected: 2, withAlerts: 2 });
  });
});

describe('fleet cells', () => {
  it('takes the later of the snapshot’s last-seen and the newest live row', () => {
    expect(lastSeenOf(device('a', { lastSeen: 5000 }), { deviceId: 'a', values: {}, lastSeen: 7000, rows: 1 })).toBe(7000);
    expect(lastSeenOf(device('a', { lastSeen: 9000 }), { deviceId: 'a', values: {}, lastSeen: 7000, rows: 1 })).toBe(9000);
    expect(lastSeenOf(device('a'), undefined)).toBeUndefined();
  });

  it('shows the first few latest values with readable precision', () => {
    expect(formatLatestValues({ temperature: 21.3456, humidity: 45.1, battery: 100, pressure: 1013.25 })).toBe(
      'temperature 21.35 · humidity 45.10 · battery 100.0 · pressure 1013',
    );
    expect(formatLatestValues({ a: 1, b: 2, c: 3 }, 2)).toBe('a 1.00 · b 2.00 · +1');
    expect(formatLatestValues(undefined)).toBe('—');
  });
});
