import { buildTestRequest, describeTestAnswer, parsePayload, sampleTopic } from '../../../dashboard/src/views/rule-test.js';

describe('rule test form', () => {
  it('fills wildcard levels of the FROM filter to get a topic the rule matches', () => {
    expect(sampleTopic("SELECT * FROM 'devices/+/telemetry' WHERE temperature > 30")).toBe('devices/device-1/telemetry');
    expect(sampleTopic("select temperature from 'site/#'")).toBe('site/data');
    expect(sampleTopic("SELECT * FROM 'it''s/+'")).toBe("it's/device-1");
    expect(sampleTopic('SELECT 1')).toBe('');
  });

  it('says why a payload is not JSON before anything is sent', () => {
    expect(parsePayload('{"t": 1}')).toEqual({ ok: true, value: { t: 1 } });
    expect(parsePayload('"hi"')).toEqual({ ok: true, value: 'hi' });
    const bad = parsePayload('{t: 1}');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/not valid JSON/);
    expect(parsePayload('  ').ok).toBe(false);
  });

  it('builds the request body of POST /api/rules/test, leaving out the version when the server default is chosen', () => {
    expect(buildTestRequest({ sql: 'SELECT * FROM \'a/+\'', version: '', topic: ' a/b ', payload: '{"x":2}' })).toEqual({
      ok: true,
      value: { sql: "SELECT * FROM 'a/+'", topic: 'a/b', payload: { x: 2 } },
    });
    expect(buildTestRequest({ sql: 'SELECT 1', version: '2016-03-23', topic: 't', payload: '1' })).toEqual({
      ok: true,
      value: { sql: 'SELECT 1', awsIotSqlVersion: '2016-03-23', topic: 't', payload: 1 },
    });
    expect(buildTestRequest({ sql: ' ', version: '', topic: 't', payload: '1' }).ok).toBe(false);
    expect(buildTestRequest({ sql: 'SELECT 1', version: '', topic: '', payload: '1' }).ok).toBe(false);
  });

  it('describes whether the rule matched and fired and shows JSON output pretty-printed', () => {
    expect(describeTestAnswer({ matched: false, fired: false }).summary).toMatch(/No match/);
    expect(describeTestAnswer({ matched: true, fired: false })).toEqual({ summary: expect.stringMatching(/WHERE was false/), output: '' });
    const fired = describeTestAnswer({ matched: true, fired: true, output: { t: 31 } });
    expect(fired.summary).toMatch(/^Fired/);
    expect(fired.output).toBe('{\n  "t": 31\n}');
    expect(describeTestAnswer({ matched: true, fired: true, outputBase64: 'AAE=' }).output).toContain('AAE=');
  });
});
