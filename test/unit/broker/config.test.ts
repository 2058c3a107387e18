import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, DEFAULT_SETTINGS } from '../../../broker/config.js';

const dir = mkdtempSync(join(tmpdir(), 'iotcore-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('loadConfig', () => {
  it('uses the embedded default resources and default settings when nothing is given', () => {
    const config = loadConfig({});
    expect(config.source).toBe('default');
    expect(config.server.httpPort).toBe(DEFAULT_SETTINGS.httpPort);
    expect(config.server.mqttPort).toBe(1883);
    expect(config.resources.rules.length).toBeGreaterThan(0);
  });

  it('gives flags precedence over environment variables, and those over the file', () => {
    const p = file('ports.json', JSON.stringify({ server: { httpPort: 9000, mqttPort: 9001, host: '127.0.0.1' } }));
    const config = loadConfig({ configFile: p, env: { IOT_HTTP_PORT: '9100', IOT_MQTT_PORT: '9101' }, flags: { httpPort: 0 } });
    expect(config.server.httpPort).toBe(0);
    expect(config.server.mqttPort).toBe(9101);
    expect(config.server.host).toBe('127.0.0.1');
  });

  it('reads the configuration file named by IOT_CONFIG', () => {
    const p = file('env.json', JSON.stringify({ channels: [{ channelName: 'only_this' }] }));
    const config = loadConfig({ env: { IOT_CONFIG: p } });
    expect(config.source).toBe(p);
    expect(config.resources.channels.map((c) => c.channelName)).toEqual(['only_this']);
    expect(config.resources.rules).toEqual([]);
  });

  it('names the environment variable and the bad value', () => {
    expect(() => loadConfig({ env: { IOT_MQTT_PORT: 'eighty' } })).toThrow(/environment variable IOT_MQTT_PORT: "eighty" is not a whole number/);
  });

  it('names the file and the key of an unknown or invalid setting', () => {
    const p = file('bad-key.json', JSON.stringify({ server: { httpPort: 70000 }, chanels: [] }));
    let message = '';
    try {
      loadConfig({ configFile: p });
    } catch (err) {
      message = (err as Error).message;
      expect((err as { code: string }).code).toBe('ConfigInvalid');
    }
    expect(message).toContain(p);
    expect(message).toMatch(/chanels|Unrecognized key/);
  });

  it('refuses an invalid port from a flag with the setting named', () => {
    expect(() => loadConfig({ flags: { httpPort: 70000 } })).toThrow(/httpPort: .*65535/);
  });

  it('refuses a file that is not JSON with the file named', () => {
    const p = file('broken.json', '{ "rules": [ ');
    expect(() => loadConfig({ configFile: p })).toThrow(new RegExp(`config file ${p}: not valid JSON`));
  });

  it('refuses a missing file with the path named', () => {
    expect(() => loadConfig({ configFile: join(dir, 'missing.json') })).toThrow(/missing\.json: cannot be read/);
  });

  it('refuses a resource name that AWS would refuse', () => {
    const p = file('bad-name.json', JSON.stringify({ channels: [{ channelName: 'has-dash' }] }));
    expect(() => loadConfig({ configFile: p })).toThrow(/channels\.0\.channelName: name must match/);
  });

  it('reads declared policies with a document object or text, and refuses a bad policy name or a missing document', () => {
    const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] };
    const ok = file('policies.json', JSON.stringify({ policies: [{ policyName: 'as-object', policyDocument: doc }, { policyName: 'as.text', policyDocument: JSON.stringify(doc) }] }));
    expect(loadConfig({ configFile: ok }).resources.policies).toEqual([{ policyName: 'as-object', policyDocument: doc }, { policyName: 'as.text', policyDocument: JSON.stringify(doc) }]);
    const badName = file('policy-name.json', JSON.stringify({ policies: [{ policyName: 'has space', policyDocument: doc }] }));
    expect(() => loadConfig({ configFile: badName })).toThrow(/policies\.0\.policyName: policyName must match/);
    const noDoc = file('policy-doc.json', JSON.stringify({ policies: [{ policyName: 'p' }] }));
    expect(() => loadConfig({ configFile: noDoc })).toThrow(/policies\.0\.policyDocument/);
  });

  it('names ARNs after region us-east-1 and account 000000000000 unless IOT_REGION and IOT_ACCOUNT_ID say otherwise', () => {
    expect(loadConfig({}).server).toMatchObject({ region: 'us-east-1', accountId: '000000000000' });
    const config = loadConfig({ env: { IOT_REGION: 'eu-central-1', IOT_ACCOUNT_ID: '123456789012' } });
    expect(config.server).toMatchObject({ region: 'eu-central-1', accountId: '123456789012' });
  });

  it('refuses an account id that is not 12 digits and a region that is not a region name', () => {
    expect(() => loadConfig({ env: { IOT_ACCOUNT_ID: '12345' } })).toThrow(/accountId: must be 12 digits/);
    const p = file('region.json', JSON.stringify({ server: { region: 'US East 1' } }));
    expect(() => loadConfig({ configFile: p })).toThrow(/region: must be a region name/);
  });

  it('takes a DuckDB memory limit as a size and refuses anything else', () => {
    expect(loadConfig({}).server.duckdbMemoryLimit).toBe('');
    expect(loadConfig({ env: { IOT_DUCKDB_MEMORY_LIMIT: '512MB' } }).server.duckdbMemoryLimit).toBe('512MB');
    expect(() => loadConfig({ env: { IOT_DUCKDB_MEMORY_LIMIT: 'lots' } })).toThrow(/duckdbMemoryLimit: must be a size such as '512MB' or '2GB'/);
  });

  it('freezes the configuration so nothing changes it while the server runs', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(Object.isFrozen(config.resources.rules)).toBe(true);
  });
});
