// The fleet for the dashboard's device list (our extension, root scope):
//   GET /api/fleet → FleetBody (contract.ts): every registered thing and every MQTT client seen
//   since start, by name, with connection state, publish counts and rates, and open alerts.
//   GET /api/fleet/{name} → FleetDeviceBody: the same for one device (the device view polls it,
//   so an open device view costs O(1), not O(fleet)); 404 ResourceNotFoundException when the
//   name is neither registered nor seen since start.
// One pass over the registry, one over the activity table, one over the open alerts (held in
// memory by the alert store): no per-device query.
import type { FleetBody, FleetDevice, FleetDeviceBody } from '../../contract.js';
import { BrokerError } from '../../errors.js';
import type { ClientActivity, FleetActivity } from '../../fleet-activity.js';
import type { Registry } from '../../registry/index.js';
import type { Http } from '../server.js';

export interface FleetSources {
  registry: Pick<Registry, 'listThings' | 'listThingGroupsForThing' | 'findThing'>;
  activity: Pick<FleetActivity, 'snapshot' | 'get'>;
  /** open (ACTIVE or ACKNOWLEDGED) alerts per deviceId */
  openAlerts(): Map<string, number>;
  now?: () => number;
}

export function fleetRoutes(sources: FleetSources) {
  return (app: Http) => {
    app.get('/api/fleet', async (): Promise<FleetBody> => fleetSnapshot(sources));
    app.get<{ Params: { name: string } }>('/api/fleet/:name', async (req): Promise<FleetDeviceBody> => fleetDevice(sources, req.params.name));
  };
}

export function fleetDevice(sources: FleetSources, name: string): FleetDeviceBody {
  const generatedAt = (sources.now ?? Date.now)();
  const thing = sources.registry.findThing(name);
  const activity = sources.activity.get(name);
  if (!thing && !activity) throw new BrokerError('ResourceNotFoundException', `no thing named ${name} is registered and no client with that id was seen since the broker started`);
  const device = thing ? registeredDevice(sources, thing) : unregisteredDevice(name);
  if (activity) applyActivity(device, activity);
  device.openAlerts = sources.openAlerts().get(name) ?? 0;
  return { generatedAt, device };
}

/** what both ListThings' entries and DescribeThing tell of a thing */
interface Thing { thingName: string; attributes?: Record<string, string>; thingTypeName?: string }

function registeredDevice(sources: FleetSources, t: Thing): FleetDevice {
  const d: FleetDevice = {
    thingName: t.thingName, registered: true, attributes: t.attributes ?? {},
    groups: sources.registry.listThingGroupsForThing(t.thingName, {}).thingGroups.map((g) => g.groupName),
    connected: false, messagesPerMinute: 0, messages: 0, openAlerts: 0,
  };
  if (t.thingTypeName !== undefined) d.thingTypeName = t.thingTypeName;
  return d;
}

function unregisteredDevice(clientId: string): FleetDevice {
  return { thingName: clientId, registered: false, attributes: {}, groups: [], connected: false, messagesPerMinute: 0, messages: 0, openAlerts: 0 };
}

function applyActivity(d: FleetDevice, a: ClientActivity): void {
  d.connected = a.connected;
  if (a.connectedSince !== undefined) d.connectedSince = a.connectedSince;
  d.lastSeen = a.lastSeen;
  d.messages = a.messages;
  d.messagesPerMinute = a.messagesPerMinute;
}

export function fleetSnapshot(sources: FleetSources): FleetBody {
  const generatedAt = (sources.now ?? Date.now)();
  const devices = new Map<string, FleetDevice>();
  let nextToken: string | undefined;
  do {
    const page = sources.registry.listThings(nextToken === undefined ? {} : { nextToken });
    for (const t of page.things) devices.set(t.thingName, registeredDevice(sources, t));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  for (const a of sources.activity.snapshot()) {
    let d = devices.get(a.clientId);
    if (!d) devices.set(a.clientId, (d = unregisteredDevice(a.clientId)));
    applyActivity(d, a);
  }
  for (const [deviceId, n] of sources.openAlerts()) {
    const d = devices.get(deviceId);
    if (d) d.openAlerts = n;
  }
  return { generatedAt, devices: [...devices.values()].sort((x, y) => (x.thingName < y.thingName ? -1 : x.thingName > y.thingName ? 1 : 0)) };
}
