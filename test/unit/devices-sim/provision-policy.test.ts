import { SimDevice, type DeviceOptions, type FleetCounters } from '../../../devices-sim/device.js';
import { createEnvironmentProfile } from '../../../devices-sim/profiles/environment.js';
import { fleetPolicyDocument, fleetPolicyName, THING_NAME_VARIABLE } from '../../../devices-sim/provision.js';
import { createRandom } from '../../../devices-sim/random.js';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
}

const ARN = 'arn:aws:iot:eu-west-1:123456789012:';
const document = () => JSON.parse(fleetPolicyDocument('eu-west-1', '123456789012')) as { Version: string; Statement: Statement[] };
const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

/** The (action, resource) pairs the policy allows for one thing, policy variable substituted. */
function allowedFor(thingName: string): string[] {
  return document().Statement.filter((s) => s.Effect === 'Allow').flatMap((s) =>
    list(s.Action).flatMap((action) => list(s.Resource).map((r) => `${action} ${r.split(THING_NAME_VARIABLE).join(thingName)}`)),
  );
}

/** A device as the fleet builds it, to read the topic it really publishes on. */
function simulatedDevice(deviceId: string): SimDevice {
  const options: DeviceOptions = { url: 'mqtts://127.0.0.1:8883', deviceId, index: 1, qos: 1, reconnectPeriodMs: 1000, connectTimeoutMs: 1000, maxInflight: 10 };
  const counters: FleetCounters = { sent: 0, acknowledged: 0, errors: 0, skipped: 0, reconnects: 0, connected: 0, inflight: 0 };
  return new SimDevice(options, createEnvironmentProfile(createRandom(1)), counters, { onLatency: () => {}, onFirstConnect: () => {} });
}

describe('the fleet policy the provisioner creates', () => {
  it('is a valid IAM-style policy document of at most 2048 non-whitespace characters', () => {
    const text = fleetPolicyDocument('eu-west-1', '123456789012');
    const parsed = document();
    expect(parsed.Version).toBe('2012-10-17');
    expect(parsed.Statement.length).toBeGreaterThan(0);
    for (const s of parsed.Statement) expect(s).toEqual({ Effect: 'Allow', Action: expect.stringMatching(/^iot:/), Resource: expect.stringMatching(/^arn:aws:iot:eu-west-1:123456789012:/) });
    expect(text.replace(/\s/g, '').length).toBeLessThanOrEqual(2048);
  });

  it("lets each device connect with its own client id and publish on exactly the topic the simulator publishes on", () => {
    const device = simulatedDevice('lab-7');
    expect(allowedFor('lab-7').sort()).toEqual([`iot:Connect ${ARN}client/lab-7`, `iot:Publish ${ARN}topic/${device.topic}`].sort());
    expect(device.topic).toBe('devices/lab-7/telemetry');
  });

  it("binds every resource to the connection's thing name, so no device may act as another", () => {
    for (const s of document().Statement) {
      for (const resource of list(s.Resource)) {
        expect(resource).toContain(THING_NAME_VARIABLE);
        expect(resource.split(THING_NAME_VARIABLE).join('')).not.toMatch(/[*?+#]/); // no wildcards around the variable
      }
    }
    expect(THING_NAME_VARIABLE).toBe('${iot:Connection.Thing.ThingName}');
  });

  it('is named after the fleet prefix', () => {
    expect(fleetPolicyName('demo')).toBe('demo-fleet-policy');
  });
});

describe('the fleet policy of a profile whose devices obey their shadow (plug)', () => {
  const shadowDocument = () => JSON.parse(fleetPolicyDocument('eu-west-1', '123456789012', { shadow: true })) as { Statement: Statement[] };
  const allowed = (thingName: string) =>
    shadowDocument().Statement.flatMap((s) => list(s.Action).flatMap((a) => list(s.Resource).map((r) => `${a} ${r.split(THING_NAME_VARIABLE).join(thingName)}`)));

  it('adds exactly its own shadow: publish updates, subscribe to and receive the delta', () => {
    expect(allowed('plug-3').sort()).toEqual(
      [
        `iot:Connect ${ARN}client/plug-3`,
        `iot:Publish ${ARN}topic/devices/plug-3/telemetry`,
        `iot:Publish ${ARN}topic/$aws/things/plug-3/shadow/update`,
        `iot:Subscribe ${ARN}topicfilter/$aws/things/plug-3/shadow/update/delta`,
        `iot:Receive ${ARN}topic/$aws/things/plug-3/shadow/update/delta`,
      ].sort(),
    );
    for (const s of shadowDocument().Statement) for (const r of list(s.Resource)) expect(r).toContain(THING_NAME_VARIABLE);
  });
});
