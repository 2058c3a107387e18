// get_thing_shadow() and get_registry_data() through the engine, with a fake lookup.
import { createRulesEngine, type RegistryApi, type RuleLookups, type TopicRulePayload } from '../../../rules/index.js';
import { jsonMessage, recordingSinks, refusal } from './helpers.js';

const V2 = '2016-03-23' as const;
const ROLE = 'arn:aws:iam::123456789012:role/rules';

function rule(sql: string, extra: Partial<TopicRulePayload> = {}): TopicRulePayload {
  return { sql, awsIotSqlVersion: V2, actions: [{ republish: { topic: 'out' } }], ...extra };
}

/** A fake registry: thing `lamp-1` has a classic and a named `config` shadow and two groups. */
function fakeLookups(): RuleLookups & { asked: string[] } {
  const asked: string[] = [];
  const shadows: Record<string, unknown> = {
    'lamp-1/': { state: { reported: { alarm: 'ON', level: 7 } }, version: 3 },
    'lamp-1/config': { state: { desired: { mode: 'eco' } }, version: 1 },
  };
  return {
    asked,
    thingShadow(thingName, shadowName) {
      asked.push(`shadow ${thingName} ${shadowName ?? '(classic)'}`);
      return shadows[`${thingName}/${shadowName ?? ''}`];
    },
    registryData(thingName: string, api: RegistryApi) {
      asked.push(`${api} ${thingName}`);
      if (thingName !== 'lamp-1') return undefined;
      if (api === 'DescribeThing') return { thingName, thingTypeName: 'Lamp', attributes: { floor: '3' }, version: 2 };
      return { thingGroups: [{ groupName: 'north', groupArn: 'arn:aws:iot:eu-west-1:123456789012:thinggroup/north' }] };
    },
  };
}

function outputs(sinks: ReturnType<typeof recordingSinks>): unknown[] {
  return sinks.calls.map((c) => JSON.parse(c.payloads[0]!));
}

describe('device state functions', () => {
  it('reads the classic and a named shadow, and gives Undefined for a missing thing', () => {
    const sinks = recordingSinks();
    const lookups = fakeLookups();
    const engine = createRulesEngine(sinks, { lookups });
    engine.putRule('r', rule(`SELECT get_thing_shadow(topic(2), '${ROLE}').state.reported.alarm AS alarm,
      get_thing_shadow(topic(2), 'config', '${ROLE}').state.desired.mode AS mode FROM 'things/+/event'`));
    engine.handle(jsonMessage('things/lamp-1/event', {}));
    engine.handle(jsonMessage('things/ghost/event', {}));
    expect(outputs(sinks)).toEqual([{ alarm: 'ON', mode: 'eco' }, {}]);
    expect(lookups.asked).toEqual(['shadow lamp-1 (classic)', 'shadow lamp-1 config', 'shadow ghost (classic)', 'shadow ghost config']);
  });

  it('filters in WHERE on shadow state and substitutes it in templates', () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks, { lookups: fakeLookups() });
    engine.putRule('r', rule(`SELECT v FROM 'things/+/event' WHERE get_thing_shadow(topic(2), '${ROLE}').state.reported.alarm = 'ON'`, {
      actions: [{ republish: { topic: `level/\${get_thing_shadow(topic(2), '${ROLE}').state.reported.level}` } }],
    }));
    engine.handle(jsonMessage('things/lamp-1/event', { v: 1 }));
    engine.handle(jsonMessage('things/ghost/event', { v: 2 }));
    expect(sinks.calls.map((c) => [c.target, c.payloads[0]])).toEqual([['level/7', '{"v":1}']]);
  });

  it('answers DescribeThing and ListThingGroupsForThing, and Undefined for another api or a missing thing', () => {
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks, { lookups: fakeLookups() });
    engine.putRule('r', rule(`SELECT get_registry_data('DescribeThing', topic(2), '${ROLE}').attributes.floor AS floor,
      get_registry_data('ListThingGroupsForThing', topic(2), '${ROLE}').thingGroups AS groups,
      get_registry_data('DeleteThing', topic(2), '${ROLE}') AS other FROM 'things/+/event'`));
    engine.handle(jsonMessage('things/lamp-1/event', {}));
    engine.handle(jsonMessage('things/ghost/event', {}));
    expect(outputs(sinks)).toEqual([{ floor: '3', groups: [{ groupName: 'north', groupArn: 'arn:aws:iot:eu-west-1:123456789012:thinggroup/north' }] }, {}]);
  });

  it('gives SQL a copy, so nothing a rule does reaches the registry objects', () => {
    const doc = { state: { reported: { n: 1 } } };
    const sinks = recordingSinks();
    const engine = createRulesEngine(sinks, { lookups: { thingShadow: () => doc, registryData: () => undefined } });
    engine.putRule('r', rule(`SELECT get_thing_shadow('t', '${ROLE}') AS s FROM 'a'`));
    engine.handle(jsonMessage('a', {}));
    expect(outputs(sinks)).toEqual([{ s: { state: { reported: { n: 1 } } } }]);
    expect(doc).toEqual({ state: { reported: { n: 1 } } });
  });

  it('refuses rules calling them, in SQL or in a template, when the engine has no lookups', () => {
    const engine = createRulesEngine(recordingSinks());
    const inSql = refusal(() => engine.putRule('r', rule(`SELECT get_thing_shadow('t', '${ROLE}') AS s FROM 'a'`)));
    expect(inSql.code).toBe('SqlParseException');
    expect(inSql.message).toMatch(/get_thing_shadow\(\) is not available: .*without access to device shadows and the registry/);
    const inTemplate = refusal(() => engine.putRule('r', rule("SELECT * FROM 'a'", {
      actions: [{ republish: { topic: `x/\${get_registry_data('DescribeThing', 't', '${ROLE}').thingName}` } }],
    })));
    expect(inTemplate.code).toBe('InvalidRequestException');
    expect(inTemplate.message).toMatch(/get_registry_data\(\) is not available/);
    expect(engine.listRules()).toEqual([]);
  });

  it('checks the arity and that get_thing_shadow needs SQL 2016-03-23', () => {
    const engine = createRulesEngine(recordingSinks(), { lookups: fakeLookups() });
    expect(refusal(() => engine.putRule('r', rule("SELECT get_thing_shadow('t') AS s FROM 'a'"))).message).toMatch(/takes 2 to 3 argument/);
    expect(refusal(() => engine.putRule('r', rule("SELECT get_registry_data('t', 'arn') AS s FROM 'a'"))).message).toMatch(/takes 3 argument/);
    expect(refusal(() => engine.putRule('r', { ...rule(`SELECT get_thing_shadow('t', '${ROLE}') AS s FROM 'a'`), awsIotSqlVersion: '2015-10-08' })).code).toBe('SqlParseException');
  });
});
