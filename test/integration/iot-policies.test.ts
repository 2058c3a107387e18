// AWS IoT policies through the real @aws-sdk/client-iot against the real server: policies and
// their versions, attachments to certificates, thing groups and password credentials, every
// error with its AWS exception, the configuration's declared policies, and a restart that keeps it all.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AttachPolicyCommand, CreateKeysAndCertificateCommand, CreatePolicyCommand, CreatePolicyVersionCommand, CreateThingCommand, CreateThingGroupCommand,
  DeleteCertificateCommand, DeleteConflictException, DeletePolicyCommand, DescribeCertificateCommand, DeletePolicyVersionCommand, DetachPolicyCommand, GetPolicyCommand, GetPolicyVersionCommand,
  InvalidRequestException, IoTClient, LimitExceededException, ListAttachedPoliciesCommand, ListPoliciesCommand, ListPolicyVersionsCommand,
  ListTargetsForPolicyCommand, MalformedPolicyException, ResourceAlreadyExistsException, ResourceNotFoundException, SetDefaultPolicyVersionCommand,
  VersionsLimitExceededException,
} from '@aws-sdk/client-iot';
import type { RunningServer } from '../../broker/index.js';
import { awsClientConfig, caught } from '../helpers/aws.js';
import { startTestServer, tempDataDir } from '../helpers/server.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-central-1';
const ARN = `arn:aws:iot:${REGION}:${ACCOUNT}`;
const document = (topic: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Publish', Resource: `${ARN}:topic/${topic}` }] });
const DECLARED = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:Connect', Resource: `${ARN}:client/\${iot:Connection.Thing.ThingName}` }] };
const config = (declared: object = DECLARED) => ({
  rules: [], channels: [], datastores: [], pipelines: [], datasets: [],
  server: { accountId: ACCOUNT, region: REGION },
  thingGroups: [{ thingGroupName: 'fleet' }, { thingGroupName: 'fleet-berlin', parentGroupName: 'fleet' }],
  things: [{ thingName: 'sensor-1' }],
  policies: [{ policyName: 'declared', policyDocument: declared }],
});

describe('policies with @aws-sdk/client-iot', () => {
  const data = tempDataDir();
  let server: RunningServer;
  let iot: IoTClient;
  let certArn: string;
  const start = async (cfg: object = config()) => {
    server = await startTestServer(data.dir, { config: cfg });
    iot = new IoTClient(awsClientConfig(server));
  };
  const stop = async () => {
    iot?.destroy();
    await server?.stop();
  };
  beforeAll(async () => {
    await start();
    certArn = (await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }))).certificateArn!;
  });
  afterAll(async () => {
    await stop();
    data.remove();
  });

  it('creates a policy and returns it with its version, dates and generation', async () => {
    const created = await iot.send(new CreatePolicyCommand({ policyName: 'telemetry', policyDocument: document('devices/*'), tags: [{ Key: 'team', Value: 'ops' }] }));
    expect(created).toMatchObject({ policyName: 'telemetry', policyArn: `${ARN}:policy/telemetry`, policyDocument: document('devices/*'), policyVersionId: '1' });
    const got = await iot.send(new GetPolicyCommand({ policyName: 'telemetry' }));
    expect(got).toMatchObject({ policyName: 'telemetry', policyArn: `${ARN}:policy/telemetry`, policyDocument: document('devices/*'), defaultVersionId: '1' });
    expect(got.creationDate).toBeInstanceOf(Date);
    expect(Math.abs(got.lastModifiedDate!.getTime() - Date.now())).toBeLessThan(60_000);
    expect(got.generationId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a second policy of the same name, a bad name and a malformed document', async () => {
    const dup = await caught(iot.send(new CreatePolicyCommand({ policyName: 'telemetry', policyDocument: document('x') })));
    expect(dup).toBeInstanceOf(ResourceAlreadyExistsException);
    expect(dup.$metadata?.httpStatusCode).toBe(409);
    const badName = await caught(iot.send(new CreatePolicyCommand({ policyName: 'no spaces', policyDocument: document('x') })));
    expect(badName).toBeInstanceOf(InvalidRequestException);
    const notJson = await caught(iot.send(new CreatePolicyCommand({ policyName: 'broken', policyDocument: '{"Statement": [' })));
    expect(notJson).toBeInstanceOf(MalformedPolicyException);
    expect(notJson.$metadata?.httpStatusCode).toBe(400);
    expect(notJson.message).toMatch(/not JSON/);
    const badEffect = await caught(iot.send(new CreatePolicyCommand({ policyName: 'broken', policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Maybe', Action: 'iot:*', Resource: '*' }] }) })));
    expect(badEffect).toBeInstanceOf(MalformedPolicyException);
    expect(badEffect.message).toMatch(/Effect/);
    const badOperator = await caught(iot.send(new CreatePolicyCommand({
      policyName: 'broken',
      policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*', Condition: { DateLessThan: { 'iot:ClientId': 'x' } } }] }),
    })));
    expect(badOperator.message).toMatch(/DateLessThan/);
    expect((await caught(iot.send(new GetPolicyCommand({ policyName: 'broken' }))))).toBeInstanceOf(ResourceNotFoundException);
  });

  it('lists policies in pages by name, in both orders', async () => {
    for (const n of ['p-a', 'p-b', 'p-c']) await iot.send(new CreatePolicyCommand({ policyName: n, policyDocument: document(n) }));
    const names: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await iot.send(new ListPoliciesCommand({ pageSize: 2, marker }));
      names.push(...page.policies!.map((p) => p.policyName!));
      marker = page.nextMarker;
      pages++;
    } while (marker);
    expect(names).toEqual(['declared', 'p-a', 'p-b', 'p-c', 'telemetry']);
    expect(pages).toBe(3);
    const descending = await iot.send(new ListPoliciesCommand({ ascendingOrder: false, pageSize: 3 }));
    expect(descending.policies!.map((p) => p.policyName)).toEqual(['telemetry', 'p-c', 'p-b']);
    const rest = await iot.send(new ListPoliciesCommand({ ascendingOrder: false, marker: descending.nextMarker }));
    expect(rest.policies!.map((p) => p.policyName)).toEqual(['p-a', 'declared']);
    expect(rest.nextMarker).toBeUndefined();
    expect(descending.policies![0]!.policyArn).toBe(`${ARN}:policy/telemetry`);
    expect(await caught(iot.send(new ListPoliciesCommand({ pageSize: 251 })))).toBeInstanceOf(InvalidRequestException);
  });

  it('keeps up to 5 versions, one of them the default', async () => {
    const v2 = await iot.send(new CreatePolicyVersionCommand({ policyName: 'p-a', policyDocument: document('v2') }));
    expect(v2).toMatchObject({ policyArn: `${ARN}:policy/p-a`, policyVersionId: '2', isDefaultVersion: false, policyDocument: document('v2') });
    const before = await iot.send(new GetPolicyCommand({ policyName: 'p-a' }));
    const v3 = await iot.send(new CreatePolicyVersionCommand({ policyName: 'p-a', policyDocument: document('v3'), setAsDefault: true }));
    expect(v3.isDefaultVersion).toBe(true);
    const after = await iot.send(new GetPolicyCommand({ policyName: 'p-a' }));
    expect(after).toMatchObject({ defaultVersionId: '3', policyDocument: document('v3') });
    expect(after.generationId).not.toBe(before.generationId);

    const versions = await iot.send(new ListPolicyVersionsCommand({ policyName: 'p-a' }));
    expect(versions.policyVersions!.map((v) => [v.versionId, v.isDefaultVersion])).toEqual([['3', true], ['2', false], ['1', false]]);
    expect(versions.policyVersions![0]!.createDate).toBeInstanceOf(Date);
    const got = await iot.send(new GetPolicyVersionCommand({ policyName: 'p-a', policyVersionId: '2' }));
    expect(got).toMatchObject({ policyName: 'p-a', policyArn: `${ARN}:policy/p-a`, policyVersionId: '2', isDefaultVersion: false, policyDocument: document('v2') });
    expect(got.creationDate).toBeInstanceOf(Date);

    await iot.send(new SetDefaultPolicyVersionCommand({ policyName: 'p-a', policyVersionId: '1' }));
    expect((await iot.send(new GetPolicyCommand({ policyName: 'p-a' }))).policyDocument).toBe(document('p-a'));

    await iot.send(new CreatePolicyVersionCommand({ policyName: 'p-a', policyDocument: document('v4') }));
    await iot.send(new CreatePolicyVersionCommand({ policyName: 'p-a', policyDocument: document('v5') }));
    const sixth = await caught(iot.send(new CreatePolicyVersionCommand({ policyName: 'p-a', policyDocument: document('v6') })));
    expect(sixth).toBeInstanceOf(VersionsLimitExceededException);
    expect(sixth.$metadata?.httpStatusCode).toBe(409);

    const deleteDefault = await caught(iot.send(new DeletePolicyVersionCommand({ policyName: 'p-a', policyVersionId: '1' })));
    expect(deleteDefault).toBeInstanceOf(DeleteConflictException);
    expect(deleteDefault.$metadata?.httpStatusCode).toBe(409);
    await iot.send(new DeletePolicyVersionCommand({ policyName: 'p-a', policyVersionId: '5' }));
    // ids are not reused
    expect((await iot.send(new CreatePolicyVersionCommand({ policyName: 'p-a', policyDocument: document('v6') }))).policyVersionId).toBe('6');

    const malformed = await caught(iot.send(new CreatePolicyVersionCommand({ policyName: 'p-b', policyDocument: '{}' })));
    expect(malformed).toBeInstanceOf(MalformedPolicyException);
    for (const call of [
      iot.send(new GetPolicyVersionCommand({ policyName: 'p-a', policyVersionId: '99' })),
      iot.send(new SetDefaultPolicyVersionCommand({ policyName: 'p-a', policyVersionId: '99' })),
      iot.send(new DeletePolicyVersionCommand({ policyName: 'p-a', policyVersionId: '99' })),
      iot.send(new ListPolicyVersionsCommand({ policyName: 'nope' })),
      iot.send(new CreatePolicyVersionCommand({ policyName: 'nope', policyDocument: document('x') })),
    ]) {
      const err = await caught(call);
      expect(err).toBeInstanceOf(ResourceNotFoundException);
      expect(err.$metadata?.httpStatusCode).toBe(404);
    }
  });

  it('attaches policies to certificates, thing groups and password credentials, and lists both ways', async () => {
    const group = `${ARN}:thinggroup/fleet-berlin`;
    const password = `${ARN}:password/sensor-1`;
    await iot.send(new AttachPolicyCommand({ policyName: 'telemetry', target: certArn }));
    await iot.send(new AttachPolicyCommand({ policyName: 'telemetry', target: certArn })); // twice is a no-op
    await iot.send(new AttachPolicyCommand({ policyName: 'p-b', target: certArn }));
    await iot.send(new AttachPolicyCommand({ policyName: 'telemetry', target: group }));
    await iot.send(new AttachPolicyCommand({ policyName: 'telemetry', target: password }));
    await iot.send(new AttachPolicyCommand({ policyName: 'p-c', target: `${ARN}:thinggroup/fleet` }));

    const attached = await iot.send(new ListAttachedPoliciesCommand({ target: certArn }));
    expect(attached.policies).toEqual([{ policyName: 'p-b', policyArn: `${ARN}:policy/p-b` }, { policyName: 'telemetry', policyArn: `${ARN}:policy/telemetry` }]);
    const firstPage = await iot.send(new ListAttachedPoliciesCommand({ target: certArn, pageSize: 1 }));
    expect(firstPage.policies!.map((p) => p.policyName)).toEqual(['p-b']);
    expect((await iot.send(new ListAttachedPoliciesCommand({ target: certArn, pageSize: 1, marker: firstPage.nextMarker }))).policies!.map((p) => p.policyName)).toEqual(['telemetry']);
    expect((await iot.send(new ListAttachedPoliciesCommand({ target: group }))).policies!.map((p) => p.policyName)).toEqual(['telemetry']);
    expect((await iot.send(new ListAttachedPoliciesCommand({ target: group, recursive: true }))).policies!.map((p) => p.policyName)).toEqual(['p-c', 'telemetry']);

    const targets: string[] = [];
    let marker: string | undefined;
    do {
      const page = await iot.send(new ListTargetsForPolicyCommand({ policyName: 'telemetry', pageSize: 2, marker }));
      targets.push(...page.targets!);
      marker = page.nextMarker;
    } while (marker);
    expect(targets.sort()).toEqual([certArn, password, group].sort());
  });

  it('refuses unknown policies and targets, foreign target kinds, and an 11th policy on a target', async () => {
    const unknownPolicy = await caught(iot.send(new AttachPolicyCommand({ policyName: 'nope', target: certArn })));
    expect(unknownPolicy).toBeInstanceOf(ResourceNotFoundException);
    for (const target of [`${ARN}:cert/${'0'.repeat(64)}`, `${ARN}:thinggroup/no-group`, `${ARN}:password/no-thing`, `arn:aws:iot:us-west-2:${ACCOUNT}:thinggroup/fleet`]) {
      const err = await caught(iot.send(new AttachPolicyCommand({ policyName: 'telemetry', target })));
      expect(err).toBeInstanceOf(ResourceNotFoundException);
    }
    for (const target of [`${ARN}:thing/sensor-1`, 'us-east-1:0000-cognito-identity']) {
      const err = await caught(iot.send(new AttachPolicyCommand({ policyName: 'telemetry', target })));
      expect(err).toBeInstanceOf(InvalidRequestException);
      expect(err.$metadata?.httpStatusCode).toBe(400);
    }
    expect(await caught(iot.send(new ListAttachedPoliciesCommand({ target: `${ARN}:thinggroup/no-group` })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await caught(iot.send(new ListTargetsForPolicyCommand({ policyName: 'nope' })))).toBeInstanceOf(ResourceNotFoundException);

    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'crowded' }));
    const crowded = `${ARN}:thinggroup/crowded`;
    for (let i = 0; i < 10; i++) {
      await iot.send(new CreatePolicyCommand({ policyName: `many-${i}`, policyDocument: document(`m${i}`) }));
      await iot.send(new AttachPolicyCommand({ policyName: `many-${i}`, target: crowded }));
    }
    await iot.send(new CreatePolicyCommand({ policyName: 'many-10', policyDocument: document('m10') }));
    const eleventh = await caught(iot.send(new AttachPolicyCommand({ policyName: 'many-10', target: crowded })));
    expect(eleventh).toBeInstanceOf(LimitExceededException);
    expect(eleventh.$metadata?.httpStatusCode).toBe(410);
  });

  it('deletes a policy only when detached and without non-default versions', async () => {
    const attached = await caught(iot.send(new DeletePolicyCommand({ policyName: 'p-b' })));
    expect(attached).toBeInstanceOf(DeleteConflictException);
    expect(attached.message).toMatch(/attached/);
    await iot.send(new DetachPolicyCommand({ policyName: 'p-b', target: certArn }));
    await iot.send(new DetachPolicyCommand({ policyName: 'p-b', target: certArn })); // not attached: succeeds
    await iot.send(new DeletePolicyCommand({ policyName: 'p-b' }));
    expect(await caught(iot.send(new GetPolicyCommand({ policyName: 'p-b' })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await caught(iot.send(new DeletePolicyCommand({ policyName: 'p-b' })))).toBeInstanceOf(ResourceNotFoundException);

    const versioned = await caught(iot.send(new DeletePolicyCommand({ policyName: 'p-a' })));
    expect(versioned).toBeInstanceOf(DeleteConflictException);
    expect(versioned.message).toMatch(/non-default versions/);
    expect((await iot.send(new ListAttachedPoliciesCommand({ target: certArn }))).policies!.map((p) => p.policyName)).toEqual(['telemetry']);
  });

  it('refuses to delete a certificate with policies attached unless forceDelete, which detaches them', async () => {
    const cert = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: false }));
    await iot.send(new CreatePolicyCommand({ policyName: 'doomed-cert-policy', policyDocument: document('doomed/*') }));
    await iot.send(new AttachPolicyCommand({ policyName: 'doomed-cert-policy', target: cert.certificateArn! }));
    const refused = await caught(iot.send(new DeleteCertificateCommand({ certificateId: cert.certificateId! })));
    expect(refused).toBeInstanceOf(DeleteConflictException);
    expect(refused.message).toMatch(/doomed-cert-policy/);
    await iot.send(new DeleteCertificateCommand({ certificateId: cert.certificateId!, forceDelete: true }));
    expect(await caught(iot.send(new DescribeCertificateCommand({ certificateId: cert.certificateId! })))).toBeInstanceOf(ResourceNotFoundException);
    expect((await iot.send(new ListTargetsForPolicyCommand({ policyName: 'doomed-cert-policy' }))).targets).toEqual([]);
  });

  it('creates the declared policies from the configuration file', async () => {
    const got = await iot.send(new GetPolicyCommand({ policyName: 'declared' }));
    expect(JSON.parse(got.policyDocument!)).toEqual(DECLARED);
    expect(got.defaultVersionId).toBe('1');
  });

  it('keeps policies, versions and attachments across a restart, and applies a changed declared policy as a new default version', async () => {
    const before = await iot.send(new ListPolicyVersionsCommand({ policyName: 'p-a' }));
    const telemetry = await iot.send(new GetPolicyCommand({ policyName: 'telemetry' }));
    await stop();
    await start(); // same declared document: nothing changes
    expect(await iot.send(new ListPolicyVersionsCommand({ policyName: 'p-a' }))).toMatchObject({ policyVersions: before.policyVersions });
    expect(await iot.send(new GetPolicyCommand({ policyName: 'telemetry' }))).toMatchObject({ ...telemetry, $metadata: expect.anything() });
    expect((await iot.send(new ListAttachedPoliciesCommand({ target: certArn }))).policies!.map((p) => p.policyName)).toEqual(['telemetry']);
    expect((await iot.send(new ListPolicyVersionsCommand({ policyName: 'declared' }))).policyVersions).toHaveLength(1);

    // a changed declaration becomes the default; at 5 versions the oldest non-default one goes
    for (let i = 2; i <= 6; i++) {
      await stop();
      await start(config({ ...DECLARED, Id: `v${i}` }));
    }
    const declared = await iot.send(new GetPolicyCommand({ policyName: 'declared' }));
    expect(declared.defaultVersionId).toBe('6');
    expect(JSON.parse(declared.policyDocument!).Id).toBe('v6');
    expect((await iot.send(new ListPolicyVersionsCommand({ policyName: 'declared' }))).policyVersions!.map((v) => v.versionId)).toEqual(['6', '5', '4', '3', '2']);
  });

  it('refuses to start on a corrupt policies file or a malformed declared policy, naming it', async () => {
    await stop();
    const bad = await caught(start(config({ Statement: 'nope' })));
    expect((bad as unknown as { code: string }).code).toBe('ConfigInvalid');
    expect(bad.message).toMatch(/policies\[0\]: MalformedPolicyException/);

    const path = join(data.dir, 'policies.json');
    writeFileSync(path, '{"version": 1, "policies": [');
    const corrupt = await caught(start());
    expect((corrupt as unknown as { code: string }).code).toBe('PoliciesFileInvalid');
    expect(corrupt.message).toContain(path);
  });
});

describe('a thing that is created after its password policy', () => {
  const data = tempDataDir();
  let server: RunningServer;
  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  it('accepts the password ARN of a thing once the thing exists', async () => {
    server = await startTestServer(data.dir, { config: { rules: [], channels: [], datastores: [], pipelines: [], datasets: [] } });
    const iot = new IoTClient(awsClientConfig(server));
    const target = 'arn:aws:iot:us-east-1:000000000000:password/late';
    await iot.send(new CreatePolicyCommand({ policyName: 'late', policyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] }) }));
    expect(await caught(iot.send(new AttachPolicyCommand({ policyName: 'late', target })))).toBeInstanceOf(ResourceNotFoundException);
    await iot.send(new CreateThingCommand({ thingName: 'late' }));
    await iot.send(new AttachPolicyCommand({ policyName: 'late', target }));
    expect((await iot.send(new ListTargetsForPolicyCommand({ policyName: 'late' }))).targets).toEqual([target]);
    iot.destroy();
  });
});
