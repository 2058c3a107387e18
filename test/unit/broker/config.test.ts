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

  it('freezes the configuration so nothing changes it while the server runs', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(Object.isFrozen(config.resources.rules)).toBe(true);
  });
});
