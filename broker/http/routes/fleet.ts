// The fleet for the dashboard's device list (our extension, root scope):
//   GET /api/fleet → FleetBody (contract.ts): every registered thing and every MQTT client seen
//   since start, by name, with connection state, publish counts and rates, and open alerts.
// One pass over the registry, one over the activity table, one over the open alerts (held in
// memory by the alert store): no per-device query.
import type { FleetBody, FleetDevice } from '../../contract.js';
import type { FleetActivity } from '../../fleet-activity.js';
import type { Registry } from '../../registry/index.js';
import type { Http } from '../server.js';

export interface FleetSources {
  registry: Pick<Registry, 'listThings' | 'listThingGroupsForThing'>;
  activity: Pick<FleetActivity, 'snapshot'>;
  /** open (ACTIVE or ACKNOWLEDGED) alerts per deviceId */
  openAlerts(): Map<string, number>;
  now?: () => number;
}

export function fleetRoutes(sources: FleetSources) {
  return (app: Http) => {
    app.get('/api/fleet', async (): Promise<FleetBody> => fleetSnapshot(sources));
  };
}

export function fleetSnapshot(sources: FleetSources): FleetBody {
  const generatedAt = (sources.now ?? Date.now)();
  const devices = new Map<string, FleetDevice>();
  let nextToken: string | undefined;
  do {
    const page = sources.registry.listThings(nextToken === undefined ? {} : { nextToken });
    for (const t of page.things) {
      const d: FleetDevice = {
        thingName: t.thingName, registered: true, attributes: t.attributes,
        groups: sources.registry.listThingGroupsForThing(t.thingName, {}).thingGroups.map((g) => g.groupName),
        connected: false, messagesPerMinute: 0, messages: 0, openAlerts: 0,
      };
      if (t.thingTypeName !== undefined) d.thingTypeName = t.thingTypeName;
      devices.set(t.thingName, d);
    }
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  for (const a of sources.activity.snapshot()) {
    let d = devices.get(a.clientId);
    if (!d) {
      d = { thingName: a.clientId, registered: false, attributes: {}, groups: [], connected: false, messagesPerMinute: 0, messages: 0, openAlerts: 0 };
      devices.set(a.clientId, d);
    }
    d.connected = a.connected;
    if (a.connectedSince !== undefined) d.connectedSince = a.connectedSince;
    d.lastSeen = a.lastSeen;
    d.messages = a.messages;
    d.messagesPerMinute = a.messagesPerMinute;
  }
  for (const [deviceId, n] of sources.openAlerts()) {
    const d = devices.get(deviceId);
    if (d) d.openAlerts = n;
  }
  return { generatedAt, devices: [...devices.values()].sort((x, y) => (x.thingName < y.thingName ? -1 : x.thingName > y.thingName ? 1 : 0)) };
}
