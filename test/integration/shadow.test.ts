// The Device Shadow service end to end: real MQTT devices, the real @aws-sdk/client-iot-data-plane,
// rules reading shadow topics and get_thing_shadow(), and a restart on the same data directory.
import {
  ConflictException,
  DeleteThingShadowCommand,
  GetThingShadowCommand,
  IoTDataPlaneClient,
  ListNamedShadowsForThingCommand,
  PublishCommand,
  ResourceNotFoundException,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import type { RunningServer } from '../../broker/index.js';
import { awsClientConfig, caught } from '../helpers/aws.js';
import { startTestServer, tempDataDir } from '../helpers/server.js';
import { connect, next, type Inbox } from '../helpers/mqtt.js';

const ROLE = 'arn:aws:iam::000000000000:role/republish';
const CONFIG = {
  channels: [], datastores: [], pipelines: [], datasets: [],
  rules: [
    // rules can select from shadow topics (topic(3) is the thing) and read shadows
    { ruleName: 'deltas', topicRulePayload: { sql: "SELECT state, topic(3) AS thing FROM '$aws/things/+/shadow/update/delta'", actions: [{ republish: { roleArn: ROLE, topic: 'seen/delta/${topic(3)}', qos: 1 } }] } },
    { ruleName: 'lookup', topicRulePayload: { sql: `SELECT get_thing_shadow(topic(2), '${ROLE}').state.reported AS reported FROM 'ask/+'`, awsIotSqlVersion: '2016-03-23', actions: [{ republish: { roleArn: ROLE, topic: 'seen/lookup', qos: 1 } }] } },
  ],
};


const payloadOf = (out: { payload?: Uint8Array }) => JSON.parse(Buffer.from(out.payload!).toString('utf8'));

describe('the Device Shadow service over MQTT and the IoT data plane', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let iotData: IoTDataPlaneClient;
  const inboxes: Inbox[] = [];
  const P = '$aws/things/lamp/shadow';

  beforeAll(async () => {
    server = await startTestServer(data.dir, { config: CONFIG });
    iotData = new IoTDataPlaneClient(awsClientConfig(server));
  });
  afterAll(async () => {
    for (const i of inboxes) await i.client.endAsync(true);
    iotData?.destroy();
    await server?.stop();
    data.remove();
  });

  it('answers a device update on accepted, sends documents to another client, and the app desired state reaches the device as a delta', async () => {
    const device = await connect(server, 'lamp', [`${P}/update/accepted`, `${P}/update/rejected`, `${P}/update/delta`, `${P}/get/accepted`, `${P}/get/rejected`, `${P}/delete/accepted`]);
    const watcher = await connect(server, 'watcher', [`${P}/update/documents`, 'seen/#']);
    inboxes.push(device, watcher);

    await device.client.publishAsync(`${P}/update`, JSON.stringify({ state: { reported: { on: false, level: 1 } }, clientToken: 'dev-1' }), { qos: 1 });
    expect(await next(device, `${P}/update/accepted`)).toMatchObject({ state: { reported: { on: false, level: 1 } }, version: 1, clientToken: 'dev-1', metadata: { reported: { on: { timestamp: expect.any(Number) } } } });
    expect(await next(watcher, `${P}/update/documents`)).toMatchObject({ previous: { version: 0 }, current: { state: { reported: { on: false, level: 1 } }, version: 1 }, clientToken: 'dev-1' });

    const out = await iotData.send(new UpdateThingShadowCommand({ thingName: 'lamp', payload: Buffer.from(JSON.stringify({ state: { desired: { on: true } }, clientToken: 'app-1' })) }));
    expect(payloadOf(out)).toMatchObject({ state: { desired: { on: true } }, version: 2, clientToken: 'app-1' });
    expect(await next(device, `${P}/update/delta`)).toMatchObject({ state: { on: true }, version: 2, clientToken: 'app-1' });
    // a rule selecting from the delta topic saw it too
    expect(await next(watcher, 'seen/delta/lamp')).toEqual({ state: { on: true }, thing: 'lamp' });

    const got = payloadOf(await iotData.send(new GetThingShadowCommand({ thingName: 'lamp' })));
    expect(got).toMatchObject({ state: { desired: { on: true }, reported: { on: false, level: 1 }, delta: { on: true } }, version: 2 });

    const before = device.messages.length;
    await device.client.publishAsync(`${P}/get`, JSON.stringify({ clientToken: 'get-1' }), { qos: 1 });
    expect(await next(device, `${P}/get/accepted`, before)).toMatchObject({ state: { delta: { on: true } }, version: 2, clientToken: 'get-1' });
  });

  it('lets rules read a shadow with get_thing_shadow()', async () => {
    const asker = await connect(server, 'asker', ['seen/lookup']);
    inboxes.push(asker);
    await asker.client.publishAsync('ask/lamp', '{}', { qos: 1 });
    expect(await next(asker, 'seen/lookup')).toEqual({ reported: { on: false, level: 1 } });
  });

  it('rejects a stale version over HTTP with ConflictException and over MQTT on update/rejected', async () => {
    const err = await caught(iotData.send(new UpdateThingShadowCommand({ thingName: 'lamp', payload: Buffer.from(JSON.stringify({ state: { reported: { on: true } }, version: 1 })) })));
    expect(err).toBeInstanceOf(ConflictException);
    expect(err.$metadata?.httpStatusCode).toBe(409);
    expect(err.message).toBe('Version conflict');

    const device = inboxes[0]!;
    const before = device.messages.length;
    await device.client.publishAsync(`${P}/update`, JSON.stringify({ state: { reported: { on: true } }, version: 1, clientToken: 'stale' }), { qos: 1 });
    expect(await next(device, `${P}/update/rejected`, before)).toEqual({ code: 409, message: 'Version conflict', timestamp: expect.any(Number), clientToken: 'stale' });
  });

  it('answers HTTP errors with the data-plane exception and status', async () => {
    const bad = await caught(iotData.send(new UpdateThingShadowCommand({ thingName: 'lamp', payload: Buffer.from('{"state": 5}') })));
    expect(bad).toMatchObject({ name: 'InvalidRequestException', message: 'State node must be an object', $metadata: { httpStatusCode: 400 } });
    const big = await caught(iotData.send(new UpdateThingShadowCommand({ thingName: 'lamp', payload: Buffer.from(JSON.stringify({ state: { reported: { s: 'x'.repeat(9000) } } })) })));
    expect(big).toMatchObject({ name: 'RequestEntityTooLargeException', $metadata: { httpStatusCode: 413 } });
    const missing = await caught(iotData.send(new GetThingShadowCommand({ thingName: 'nobody' })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(missing.$metadata?.httpStatusCode).toBe(404);
  });

  it('keeps named shadows apart from the classic one and lists them', async () => {
    for (const shadowName of ['cfg', 'alarm']) {
      await iotData.send(new UpdateThingShadowCommand({ thingName: 'lamp', shadowName, payload: Buffer.from(JSON.stringify({ state: { reported: { name: shadowName } } })) }));
    }
    const cfg = payloadOf(await iotData.send(new GetThingShadowCommand({ thingName: 'lamp', shadowName: 'cfg' })));
    expect(cfg).toMatchObject({ state: { reported: { name: 'cfg' } }, version: 1 });
    const list = await iotData.send(new ListNamedShadowsForThingCommand({ thingName: 'lamp' }));
    expect(list.results).toEqual(['alarm', 'cfg']);
    expect(typeof list.timestamp).toBe('number');
    const page = await iotData.send(new ListNamedShadowsForThingCommand({ thingName: 'lamp', pageSize: 1 }));
    expect(page.results).toEqual(['alarm']);
    const rest = await iotData.send(new ListNamedShadowsForThingCommand({ thingName: 'lamp', pageSize: 1, nextToken: page.nextToken! }));
    expect(rest.results).toEqual(['cfg']);
    expect(rest.nextToken).toBeUndefined();
  });

  it('deletes a named shadow over HTTP, telling subscribers on delete/accepted', async () => {
    const watcher = await connect(server, 'delete-watcher', [`${P}/name/alarm/delete/accepted`]);
    inboxes.push(watcher);
    const out = payloadOf(await iotData.send(new DeleteThingShadowCommand({ thingName: 'lamp', shadowName: 'alarm' })));
    expect(out).toEqual({ version: 1, timestamp: expect.any(Number) });
    expect(await next(watcher, `${P}/name/alarm/delete/accepted`)).toEqual(out);
    expect(await caught(iotData.send(new GetThingShadowCommand({ thingName: 'lamp', shadowName: 'alarm' })))).toBeInstanceOf(ResourceNotFoundException);
    expect((await iotData.send(new ListNamedShadowsForThingCommand({ thingName: 'lamp' }))).results).toEqual(['cfg']);
  });

  it('publishes over HTTP to subscribers, and an HTTP publish on a shadow request topic updates the shadow', async () => {
    const sub = await connect(server, 'http-sub', ['plain/topic', `${P}/name/cfg/update/accepted`]);
    inboxes.push(sub);
    await iotData.send(new PublishCommand({ topic: 'plain/topic', qos: 1, payload: Buffer.from('{"x":1}') }));
    expect(await next(sub, 'plain/topic')).toEqual({ x: 1 });
    await iotData.send(new PublishCommand({ topic: `${P}/name/cfg/update`, qos: 1, payload: Buffer.from('{"state":{"desired":{"mode":"eco"}}}') }));
    expect(await next(sub, `${P}/name/cfg/update/accepted`)).toMatchObject({ state: { desired: { mode: 'eco' } }, version: 2 });
  });

  it('disconnects a device that publishes on a shadow response topic', async () => {
    const rogue = await connect(server, 'rogue', []);
    inboxes.push(rogue);
    const closed = new Promise<void>((resolve) => rogue.client.once('close', () => resolve()));
    rogue.client.publish(`${P}/update/accepted`, '{}', { qos: 1 });
    await closed;
    const got = payloadOf(await iotData.send(new GetThingShadowCommand({ thingName: 'lamp' })));
    expect(got.version).toBe(2);
  });

  it('keeps shadows and deletions across a restart', async () => {
    for (const i of inboxes.splice(0)) await i.client.endAsync(true);
    await server.stop();
    server = await startTestServer(data.dir, { config: CONFIG });
    iotData.destroy();
    iotData = new IoTDataPlaneClient(awsClientConfig(server));
    const lamp = payloadOf(await iotData.send(new GetThingShadowCommand({ thingName: 'lamp' })));
    expect(lamp).toMatchObject({ state: { desired: { on: true }, reported: { on: false, level: 1 } }, version: 2 });
    expect(payloadOf(await iotData.send(new GetThingShadowCommand({ thingName: 'lamp', shadowName: 'cfg' })))).toMatchObject({ state: { desired: { mode: 'eco' } }, version: 2 });
    expect(await caught(iotData.send(new GetThingShadowCommand({ thingName: 'lamp', shadowName: 'alarm' })))).toBeInstanceOf(ResourceNotFoundException);
    // a recreated shadow continues from its old version
    const recreated = payloadOf(await iotData.send(new UpdateThingShadowCommand({ thingName: 'lamp', shadowName: 'alarm', payload: Buffer.from('{"state":{"reported":{"a":1}}}') })));
    expect(recreated.version).toBe(2);
  });
});
