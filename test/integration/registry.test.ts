// The device registry through the real @aws-sdk/client-iot against the real server: things,
// thing types and static groups, their errors, a restart on the same data directory, the
// configuration file's registry sections, and a rule that enriches messages with
// get_registry_data().
import mqtt, { type MqttClient } from 'mqtt';
import {
  AddThingToThingGroupCommand, CreateThingCommand, CreateThingGroupCommand, CreateThingTypeCommand, CreateTopicRuleCommand,
  DeleteThingCommand, DeleteThingGroupCommand, DeleteThingTypeCommand, DeprecateThingTypeCommand, DescribeThingCommand,
  DescribeThingGroupCommand, DescribeThingTypeCommand, InvalidRequestException, IoTClient, ListThingGroupsCommand,
  ListThingGroupsForThingCommand, ListThingsCommand, ListThingsInThingGroupCommand, ListThingTypesCommand,
  RemoveThingFromThingGroupCommand, ResourceAlreadyExistsException, ResourceNotFoundException, UpdateThingCommand,
  VersionConflictException, paginateListThings,
} from '@aws-sdk/client-iot';
import type { RunningServer } from '../../broker/index.js';
import { awsClientConfig, caught } from '../helpers/aws.js';
import { eventually, startTestServer, tempDataDir } from '../helpers/server.js';
import { operatorFetch } from '../helpers/operator.js';

const ACCOUNT = '123456789012';
const CONFIG = {
  rules: [], channels: [], datastores: [], pipelines: [], datasets: [],
  server: { accountId: ACCOUNT, region: 'eu-central-1' },
  thingTypes: [{ thingTypeName: 'declared_type', thingTypeProperties: { thingTypeDescription: 'from the file' } }],
  thingGroups: [{ thingGroupName: 'declared_group' }],
  things: [{ thingName: 'declared-thing', thingTypeName: 'declared_type', attributePayload: { attributes: { origin: 'config' } }, thingGroupNames: ['declared_group'] }],
};
const arn = (kind: string, name: string) => `arn:aws:iot:eu-central-1:${ACCOUNT}:${kind}/${name}`;


describe('the device registry with @aws-sdk/client-iot', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let iot: IoTClient;

  const start = async () => {
    server = await startTestServer(data.dir, { config: CONFIG });
    iot = new IoTClient(awsClientConfig(server));
  };
  const stop = async () => {
    iot?.destroy();
    await server?.stop();
  };

  beforeAll(start);
  afterAll(async () => {
    await stop();
    data.remove();
  });

  it('creates, describes, updates and lists things with their ARNs and versions', async () => {
    await iot.send(new CreateThingTypeCommand({ thingTypeName: 'lamp', thingTypeProperties: { thingTypeDescription: 'lamps', searchableAttributes: ['room'] } }));
    const created = await iot.send(new CreateThingCommand({ thingName: 'lamp-1', thingTypeName: 'lamp', attributePayload: { attributes: { room: 'kitchen', watts: '40' } } }));
    expect(created).toMatchObject({ thingName: 'lamp-1', thingArn: arn('thing', 'lamp-1') });
    expect(created.thingId).toEqual(expect.any(String));
    // an identical create is idempotent
    expect((await iot.send(new CreateThingCommand({ thingName: 'lamp-1', thingTypeName: 'lamp', attributePayload: { attributes: { room: 'kitchen', watts: '40' } } }))).thingId).toBe(created.thingId);

    await iot.send(new UpdateThingCommand({ thingName: 'lamp-1', expectedVersion: 1, attributePayload: { attributes: { watts: '', colour: 'warm' }, merge: true } }));
    const described = await iot.send(new DescribeThingCommand({ thingName: 'lamp-1' }));
    expect(described).toMatchObject({
      defaultClientId: 'lamp-1', thingName: 'lamp-1', thingId: created.thingId, thingArn: arn('thing', 'lamp-1'),
      thingTypeName: 'lamp', attributes: { room: 'kitchen', colour: 'warm' }, version: 2,
    });

    const listed = await iot.send(new ListThingsCommand({ thingTypeName: 'lamp' }));
    expect(listed.things).toEqual([{ thingName: 'lamp-1', thingTypeName: 'lamp', thingArn: arn('thing', 'lamp-1'), attributes: { room: 'kitchen', colour: 'warm' }, version: 2 }]);
  });

  it('pages through ListThings and filters by attribute, exactly or by prefix', async () => {
    for (let i = 0; i < 7; i++) await iot.send(new CreateThingCommand({ thingName: `page-${i}`, attributePayload: { attributes: { batch: i < 4 ? 'b-first' : 'b-second' } } }));
    const names: string[] = [];
    let pages = 0;
    for await (const page of paginateListThings({ client: iot, pageSize: 3 }, { attributeName: 'batch', attributeValue: 'b-', usePrefixAttributeValue: true })) {
      pages++;
      names.push(...page.things!.map((t) => t.thingName!));
    }
    expect(pages).toBe(3);
    expect(names).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6']);
    const exact = await iot.send(new ListThingsCommand({ attributeName: 'batch', attributeValue: 'b-second' }));
    expect(exact.things!.map((t) => t.thingName)).toEqual(['page-4', 'page-5', 'page-6']);
    const err = await caught(iot.send(new ListThingsCommand({ maxResults: 251 })));
    expect(err).toBeInstanceOf(InvalidRequestException);
  });

  it('raises VersionConflictException, ResourceNotFoundException and ResourceAlreadyExistsException as AWS does', async () => {
    const conflict = await caught(iot.send(new UpdateThingCommand({ thingName: 'lamp-1', expectedVersion: 1, attributePayload: { attributes: {} } })));
    expect(conflict).toBeInstanceOf(VersionConflictException);
    expect(conflict.$metadata?.httpStatusCode).toBe(409);
    const missing = await caught(iot.send(new DescribeThingCommand({ thingName: 'nobody' })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(missing.$metadata?.httpStatusCode).toBe(404);
    expect(await caught(iot.send(new DescribeThingTypeCommand({ thingTypeName: 'nope' })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await caught(iot.send(new DescribeThingGroupCommand({ thingGroupName: 'nope' })))).toBeInstanceOf(ResourceNotFoundException);
    const exists = await caught(iot.send(new CreateThingCommand({ thingName: 'lamp-1' })));
    expect(exists).toBeInstanceOf(ResourceAlreadyExistsException);
    expect(exists).toMatchObject({ resourceArn: arn('thing', 'lamp-1') });
    expect(await caught(iot.send(new CreateThingCommand({ thingName: 'bad name' })))).toBeInstanceOf(InvalidRequestException);
  });

  it('refuses a deprecated thing type for new things, lists types, and makes deletion wait five minutes', async () => {
    await iot.send(new CreateThingTypeCommand({ thingTypeName: 'retired' }));
    await iot.send(new DeprecateThingTypeCommand({ thingTypeName: 'retired' }));
    const described = await iot.send(new DescribeThingTypeCommand({ thingTypeName: 'retired' }));
    expect(described.thingTypeMetadata).toMatchObject({ deprecated: true });
    expect(described.thingTypeMetadata!.deprecationDate).toBeInstanceOf(Date);
    expect(described.thingTypeArn).toBe(arn('thingtype', 'retired'));
    const refused = await caught(iot.send(new CreateThingCommand({ thingName: 'new-one', thingTypeName: 'retired' })));
    expect(refused).toBeInstanceOf(InvalidRequestException);
    expect(refused.message).toMatch(/deprecated/);
    const tooSoon = await caught(iot.send(new DeleteThingTypeCommand({ thingTypeName: 'retired' })));
    expect(tooSoon).toBeInstanceOf(InvalidRequestException);
    expect(tooSoon.message).toMatch(/can be deleted in \d+ s/);
    await iot.send(new DeprecateThingTypeCommand({ thingTypeName: 'retired', undoDeprecate: true }));
    await iot.send(new CreateThingCommand({ thingName: 'new-one', thingTypeName: 'retired' }));
    const types = await iot.send(new ListThingTypesCommand({}));
    expect(types.thingTypes!.map((t) => t.thingTypeName)).toEqual(['declared_type', 'lamp', 'retired']);
    expect(types.thingTypes![1]!.thingTypeProperties).toEqual({ thingTypeDescription: 'lamps', searchableAttributes: ['room'] });
  });

  it('builds static group hierarchies and memberships', async () => {
    const site = await iot.send(new CreateThingGroupCommand({ thingGroupName: 'site', thingGroupProperties: { thingGroupDescription: 'HQ', attributePayload: { attributes: { city: 'Lyon' } } } }));
    expect(site.thingGroupArn).toBe(arn('thinggroup', 'site'));
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'floor-1', parentGroupName: 'site' }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'floor-1', thingName: 'lamp-1' }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupArn: arn('thinggroup', 'site'), thingArn: arn('thing', 'page-0') }));

    const floor = await iot.send(new DescribeThingGroupCommand({ thingGroupName: 'floor-1' }));
    expect(floor).toMatchObject({ thingGroupName: 'floor-1', version: 1, thingGroupMetadata: { parentGroupName: 'site', rootToParentThingGroups: [{ groupName: 'site', groupArn: arn('thinggroup', 'site') }] } });
    expect(floor.thingGroupMetadata!.creationDate).toBeInstanceOf(Date);
    expect((await iot.send(new ListThingGroupsCommand({ parentGroup: 'site' }))).thingGroups).toEqual([{ groupName: 'floor-1', groupArn: arn('thinggroup', 'floor-1') }]);
    expect((await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'site' }))).things).toEqual(['page-0']);
    expect((await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'site', recursive: true }))).things).toEqual(['lamp-1', 'page-0']);
    expect((await iot.send(new ListThingGroupsForThingCommand({ thingName: 'lamp-1' }))).thingGroups).toEqual([{ groupName: 'floor-1', groupArn: arn('thinggroup', 'floor-1') }]);

    await iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'site', thingName: 'page-0' }));
    expect((await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'site' }))).things).toEqual([]);
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'scratch' }));
    await iot.send(new DeleteThingGroupCommand({ thingGroupName: 'scratch' }));
    expect(await caught(iot.send(new DescribeThingGroupCommand({ thingGroupName: 'scratch' })))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('applies the configuration file\'s thing types, groups and things', async () => {
    const thing = await iot.send(new DescribeThingCommand({ thingName: 'declared-thing' }));
    expect(thing).toMatchObject({ thingTypeName: 'declared_type', attributes: { origin: 'config' }, version: 1 });
    expect((await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'declared_group' }))).things).toEqual(['declared-thing']);
  });

  it('enriches a message with get_registry_data in a rule and republishes it', async () => {
    await iot.send(new CreateTopicRuleCommand({
      ruleName: 'enrich',
      topicRulePayload: {
        sql: `SELECT get_registry_data('DescribeThing', topic(2), 'arn:aws:iam::${ACCOUNT}:role/r') AS thing, reading FROM 'registry/+/hello'`,
        awsIotSqlVersion: '2016-03-23',
        actions: [{ republish: { roleArn: `arn:aws:iam::${ACCOUNT}:role/r`, topic: 'enriched/${topic(2)}', qos: 1 } }],
      },
    }));
    const sub: MqttClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'enriched-sub', protocolVersion: 4 });
    const pub: MqttClient = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId: 'lamp-1', protocolVersion: 4 });
    try {
      const received: unknown[] = [];
      sub.on('message', (_topic, payload) => received.push(JSON.parse(payload.toString())));
      await sub.subscribeAsync('enriched/#', { qos: 1 });
      await pub.publishAsync('registry/lamp-1/hello', JSON.stringify({ reading: 7 }), { qos: 1 });
      const [out] = await eventually(async () => (received.length ? received : undefined), 5000, 'the enriched message');
      expect(out).toEqual({
        reading: 7,
        thing: { defaultClientId: 'lamp-1', thingName: 'lamp-1', thingId: expect.any(String), thingArn: arn('thing', 'lamp-1'), thingTypeName: 'lamp', attributes: { room: 'kitchen', colour: 'warm' }, version: 2 },
      });
    } finally {
      await pub.endAsync();
      await sub.endAsync();
    }
  });

  it('lets POST /api/rules/test read the registry as live rules do', async () => {
    const res = await operatorFetch(`http://127.0.0.1:${server.httpPort}`, '/api/rules/test', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        sql: `SELECT get_registry_data('DescribeThing', topic(2), 'arn:aws:iam::${ACCOUNT}:role/r').attributes.room AS room FROM 'registry/+/hello'`,
        awsIotSqlVersion: '2016-03-23',
        topic: 'registry/lamp-1/hello',
        payload: {},
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ matched: true, fired: true, output: { room: 'kitchen' } });
  });

  it('keeps every thing, type, group and membership across a restart', async () => {
    const before = {
      thing: await iot.send(new DescribeThingCommand({ thingName: 'lamp-1' })),
      things: (await iot.send(new ListThingsCommand({}))).things,
      type: await iot.send(new DescribeThingTypeCommand({ thingTypeName: 'lamp' })),
      group: await iot.send(new DescribeThingGroupCommand({ thingGroupName: 'floor-1' })),
    };
    await iot.send(new DeleteThingCommand({ thingName: 'page-6', expectedVersion: 1 }));
    await stop();
    await start();
    const thing = await iot.send(new DescribeThingCommand({ thingName: 'lamp-1' }));
    expect({ ...thing, $metadata: undefined }).toEqual({ ...before.thing, $metadata: undefined });
    expect((await iot.send(new ListThingsCommand({}))).things).toEqual(before.things!.filter((t) => t.thingName !== 'page-6'));
    expect((await iot.send(new DescribeThingTypeCommand({ thingTypeName: 'lamp' }))).thingTypeMetadata).toEqual(before.type.thingTypeMetadata);
    expect((await iot.send(new DescribeThingGroupCommand({ thingGroupName: 'floor-1' }))).thingGroupMetadata).toEqual(before.group.thingGroupMetadata);
    expect((await iot.send(new ListThingGroupsForThingCommand({ thingName: 'lamp-1' }))).thingGroups!.map((g) => g.groupName)).toEqual(['floor-1']);
  });
});
