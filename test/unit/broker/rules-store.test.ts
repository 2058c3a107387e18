import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRulesEngine, type RulesEngine, type RuleSinks, type TopicRulePayload } from '../../../rules/index.js';
import { openRuleStore, readRulesFile, RULES_FILE, writeRulesFile, type StoredRule } from '../../../broker/rules-store.js';

const sinks: RuleSinks = {
  channel: async () => {},
  republish: async () => {},
  http: async () => {},
};
const arn = (name: string) => `arn:aws:iot:us-east-1:000000000000:rule/${name}`;
const payload = (topic: string, extra: Partial<TopicRulePayload> = {}): TopicRulePayload => ({ sql: `SELECT * FROM '${topic}'`, actions: [], ...extra });

let dir: string;
let clock: number;
const engine = (): RulesEngine => createRulesEngine(sinks, { now: () => clock });
const fileOf = () => join(dir, RULES_FILE);
const stored = () => (JSON.parse(readFileSync(fileOf(), 'utf8')) as { rules: StoredRule[] }).rules;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'iotcore-rules-store-'));
  clock = 1_700_000_000_000;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the rules file', () => {
  it('is replaced by a rename of a complete temporary file, never rewritten in place', () => {
    const rule: StoredRule = { ruleName: 'a', topicRulePayload: payload('a'), createdAt: 1 };
    writeRulesFile(fileOf(), [rule]);
    const firstInode = statSync(fileOf()).ino;
    writeRulesFile(fileOf(), [rule, { ...rule, ruleName: 'b' }]);
    expect(statSync(fileOf()).ino).not.toBe(firstInode);
    expect(readdirSync(dir)).toEqual([RULES_FILE]);
    expect(readRulesFile(fileOf()).map((r) => r.ruleName)).toEqual(['a', 'b']);
  });

  it('reports a failed write as InternalFailureException and leaves no temporary file behind', () => {
    mkdirSync(fileOf()); // a directory where the file should go: the rename fails
    expect(() => writeRulesFile(fileOf(), [])).toThrow(expect.objectContaining({ code: 'InternalFailureException' }));
    expect(readdirSync(dir)).toEqual([RULES_FILE]);
  });

  it('reads as no rules when it does not exist', () => {
    expect(readRulesFile(fileOf())).toEqual([]);
  });

  it('reports a file that is not JSON as RulesFileInvalid naming the file', () => {
    writeFileSync(fileOf(), '{"rules": [');
    expect(() => readRulesFile(fileOf())).toThrow(expect.objectContaining({ code: 'RulesFileInvalid', message: expect.stringContaining(fileOf()) }));
    writeFileSync(fileOf(), JSON.stringify({ rules: [{ ruleName: 'x' }] }));
    expect(() => readRulesFile(fileOf())).toThrow(expect.objectContaining({ code: 'RulesFileInvalid', message: expect.stringContaining('rules[0]') }));
  });
});

describe('the rule store', () => {
  it('loads persisted rules into the engine with their disabled state and creation time', () => {
    writeRulesFile(fileOf(), [
      { ruleName: 'on', topicRulePayload: payload('t/on'), createdAt: 1000 },
      { ruleName: 'off', topicRulePayload: payload('t/off', { ruleDisabled: true }), createdAt: 2000 },
    ]);
    const rules = engine();
    const store = openRuleStore(dir, rules, arn);
    expect(store.list().map((r) => [r.ruleName, r.topicRulePayload.ruleDisabled, r.createdAt])).toEqual([
      ['off', true, 2000],
      ['on', false, 1000],
    ]);
    expect(rules.getRule('on')?.topicFilter).toBe('t/on');
  });

  it('refuses to open when a persisted rule no longer compiles, naming the file and the rule', () => {
    writeRulesFile(fileOf(), [{ ruleName: 'broken', topicRulePayload: payload('a', { sql: 'SELECT FROM' }), createdAt: 1 }]);
    expect(() => openRuleStore(dir, engine(), arn)).toThrow(
      expect.objectContaining({ code: 'RulesFileInvalid', message: expect.stringMatching(new RegExp(`${RULES_FILE}.*'broken'.*SqlParseException`)) }),
    );
  });

  it('persists create, disable, replace and delete, keeping the creation time', () => {
    const store = openRuleStore(dir, engine(), arn);
    store.create('r1', payload('a'));
    expect(stored()).toEqual([{ ruleName: 'r1', topicRulePayload: expect.objectContaining({ sql: "SELECT * FROM 'a'", ruleDisabled: false }), createdAt: clock }]);
    const created = clock;
    clock += 5000;
    store.setDisabled('r1', true);
    store.replace('r1', payload('b', { ruleDisabled: true }));
    expect(stored()).toEqual([{ ruleName: 'r1', topicRulePayload: expect.objectContaining({ sql: "SELECT * FROM 'b'", ruleDisabled: true }), createdAt: created }]);
    expect(store.get('r1').createdAt).toBe(created);
    store.delete('r1');
    expect(stored()).toEqual([]);
  });

  it('refuses a duplicate create with the name and ARN, and unknown names with ResourceNotFoundException', () => {
    const store = openRuleStore(dir, engine(), arn);
    store.create('r1', payload('a'));
    expect(() => store.create('r1', payload('b'))).toThrow(
      expect.objectContaining({ code: 'ResourceAlreadyExistsException', statusCode: 409, details: { resourceId: 'r1', resourceArn: arn('r1') } }),
    );
    for (const op of [() => store.get('x'), () => store.replace('x', payload('a')), () => store.delete('x'), () => store.setDisabled('x', true)]) {
      expect(op).toThrow(expect.objectContaining({ code: 'ResourceNotFoundException', statusCode: 404 }));
    }
  });

  it('leaves the working rule and the file unchanged when a replacement does not compile', () => {
    const store = openRuleStore(dir, engine(), arn);
    store.create('r1', payload('a'));
    const before = readFileSync(fileOf(), 'utf8');
    expect(() => store.replace('r1', payload('a', { sql: 'SELECT FROM' }))).toThrow(expect.objectContaining({ code: 'SqlParseException' }));
    expect(readFileSync(fileOf(), 'utf8')).toBe(before);
    expect(store.get('r1').topicRulePayload.sql).toBe("SELECT * FROM 'a'");
  });

  it('puts the engine back when the file cannot be written', () => {
    const rules = engine();
    const store = openRuleStore(dir, rules, arn);
    store.create('r1', payload('a'));
    rmSync(fileOf());
    mkdirSync(fileOf()); // writes now fail
    expect(() => store.setDisabled('r1', true)).toThrow(expect.objectContaining({ code: 'InternalFailureException' }));
    expect(rules.getRule('r1')?.topicRulePayload.ruleDisabled).toBe(false);
    expect(() => store.create('r2', payload('b'))).toThrow(expect.objectContaining({ code: 'InternalFailureException' }));
    expect(rules.getRule('r2')).toBeUndefined();
  });

  it('lists configuration rules too but stores only rules changed through it', () => {
    const rules = engine();
    const store = openRuleStore(dir, rules, arn);
    rules.putRule('from_config', payload('c')); // as start-up applies the configuration
    store.create('from_api', payload('a'));
    expect(store.list().map((r) => r.ruleName)).toEqual(['from_api', 'from_config']);
    expect(stored().map((r) => r.ruleName)).toEqual(['from_api']);
  });
});
