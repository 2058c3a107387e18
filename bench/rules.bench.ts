// Rules engine throughput on one core: (a) evaluations per second for typical rules, through
// handle() and through the compiled SQL alone; (b) the cost per message of 0 to 1,000 installed
// rules when each message matches exactly one of them (the topic index should keep it flat).
// Every figure: warm-up first, then a fixed number of iterations, several repetitions, median.
import { createRulesEngine, type RuleMessage, type RuleSinks, type TopicRulePayload } from '../rules/index.js';
import { compileRuleSql, type CompiledSql } from '../rules/sql/compile.js';
import { MessageContext, type EngineEnv } from '../rules/sql/scope.js';
import { TopicIndex } from '../rules/topic-index.js';
import { machineHeader, table } from './machine.js';

const REPETITIONS = 5;
const EVAL_ITERATIONS = 1_000_000;
const HANDLE_ITERATIONS = 300_000;
/** handle() starts background promises; letting them drain every so often keeps memory flat,
 * as the broker's event loop does between packets. */
const DRAIN_EVERY = 1_000;
const STREAM = 4_096; // distinct messages cycled through, so payloads vary

const SIMPLE = "SELECT * FROM 'devices/+/telemetry' WHERE temperature > 50";
const PROJECTION = "SELECT deviceId, temperature * 1.8 + 32 AS f, upper(deviceId) AS d FROM 'devices/+/telemetry' WHERE battery < 20 AND temperature > 0";

const ENV: EngineEnv = { now: Date.now, newUuid: () => '00000000-0000-0000-0000-000000000000', accountId: '000000000000' };
const RESOLVED = Promise.resolve();
const sinks: RuleSinks = { channel: () => RESOLVED, republish: () => RESOLVED, http: () => RESOLVED };

function telemetry(topic: string, i: number, fires: boolean): RuleMessage {
  const payload = {
    deviceId: `dev-${i}`,
    temperature: fires ? 51 + (i % 40) : 10 + (i % 40),
    humidity: 40 + (i % 30),
    battery: fires ? i % 20 : 20 + (i % 80),
    ts: 1_700_000_000_000 + i,
  };
  return { topic, payload: Buffer.from(JSON.stringify(payload)), clientId: `dev-${i}`, receivedAt: 1_700_000_000_000 + i };
}

function stream(fires: boolean, topicOf: (i: number) => string = (i) => `devices/dev-${i}/telemetry`): RuleMessage[] {
  return Array.from({ length: STREAM }, (_, i) => telemetry(topicOf(i), i, fires));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs `body(iterations)` once to warm up, then REPETITIONS times; returns the median ns/iteration. */
async function measure(iterations: number, body: (n: number) => unknown): Promise<number> {
  await body(Math.min(iterations, 200_000));
  const runs: number[] = [];
  for (let r = 0; r < REPETITIONS; r++) {
    const t0 = process.hrtime.bigint();
    await body(iterations);
    runs.push(Number(process.hrtime.bigint() - t0) / iterations);
  }
  return median(runs);
}

let sink = 0; // results feed this so the work cannot be optimised away

/** Compiled SQL alone. `parse`: a fresh context per message, so the JSON payload is parsed once
 * per message as in real use; otherwise one context reused (parsed once, closures only). */
function evaluateLoop(sql: CompiledSql, msgs: RuleMessage[], parse: boolean): (n: number) => void {
  const reused = msgs.map((m) => new MessageContext(m, m.topic, ENV));
  return (n) => {
    for (let i = 0; i < n; i++) {
      const j = i % STREAM;
      const ctx = parse ? new MessageContext(msgs[j]!, msgs[j]!.topic, ENV) : reused[j]!;
      if (sql.evaluate(ctx) !== undefined) sink++;
    }
  };
}

function handleLoop(payloads: TopicRulePayload[], msgs: RuleMessage[]): (n: number) => Promise<void> {
  const engine = createRulesEngine(sinks, ENV);
  payloads.forEach((p, i) => engine.putRule(`r${i}`, p));
  return async (n) => {
    for (let i = 0; i < n; i++) {
      if (engine.handle(msgs[i % STREAM]!) !== undefined) sink++;
      if (i % DRAIN_EVERY === DRAIN_EVERY - 1) await engine.idle();
    }
    await engine.idle();
  };
}

const perSecond = (ns: number): string => Math.round(1e9 / ns).toLocaleString('en-US');
const nsText = (ns: number): string => ns.toFixed(0);

async function evaluations(): Promise<{ rows: Record<string, string>[]; simpleRate: number }> {
  const firing = stream(true);
  const quiet = stream(false);
  const cases: Array<{ name: string; sql: string; msgs: RuleMessage[] }> = [
    { name: 'simple WHERE, fires', sql: SIMPLE, msgs: firing },
    { name: 'simple WHERE, does not fire', sql: SIMPLE, msgs: quiet },
    { name: 'projection + 2 conditions, fires', sql: PROJECTION, msgs: firing },
    { name: 'projection + 2 conditions, does not fire', sql: PROJECTION, msgs: quiet },
  ];
  const rows: Record<string, string>[] = [];
  let simpleRate = Infinity;
  for (const c of cases) {
    const sql = compileRuleSql(c.sql, '2016-03-23');
    const action: TopicRulePayload = { sql: c.sql, awsIotSqlVersion: '2016-03-23', actions: [{ republish: { topic: 'out/${topic(2)}' } }] };
    const parsed = await measure(EVAL_ITERATIONS, evaluateLoop(sql, c.msgs, true));
    const closures = await measure(EVAL_ITERATIONS, evaluateLoop(sql, c.msgs, false));
    const handled = await measure(HANDLE_ITERATIONS, handleLoop([action], c.msgs));
    if (c.sql === SIMPLE) simpleRate = Math.min(simpleRate, 1e9 / parsed);
    rows.push({
      rule: c.name,
      'evaluate/s (parse per msg)': perSecond(parsed),
      'evaluate/s (pre-parsed)': perSecond(closures),
      'handle()/s (republish action)': perSecond(handled),
      'handle ns/msg': nsText(handled),
    });
  }
  return { rows, simpleRate };
}

/** N rules: mostly `fleet/<i>/+/telemetry`, plus wildcard filters that share the index's paths
 * (`fleet/+/<device>/events`, `ops/<i>/#`) without matching the telemetry stream. */
function fleetRules(n: number): { payloads: TopicRulePayload[]; telemetryRules: number } {
  const payloads: TopicRulePayload[] = [];
  let telemetryRules = 0;
  for (let i = 0; i < n; i++) {
    let filter: string;
    if (i % 20 === 18) filter = `fleet/+/dev-${i}/events`;
    else if (i % 20 === 19) filter = `ops/${i}/#`;
    else filter = `fleet/${telemetryRules++}/+/telemetry`;
    payloads.push({ sql: `SELECT * FROM '${filter}' WHERE temperature > 50`, awsIotSqlVersion: '2016-03-23', actions: [{ republish: { topic: 'out/${topic(2)}' } }] });
  }
  return { payloads, telemetryRules };
}

async function scaling(): Promise<{ rows: Record<string, string>[]; ratio: number }> {
  const counts = [0, 10, 100, 1000];
  const results = new Map<number, number>();
  const rows: Record<string, string>[] = [];
  // The last case keeps 1,000 rules installed but sends the stream to only 9 of them: it tells
  // the cost of many installed rules (index) from the cost of many distinct rules being run
  // (cold closures and counters in the CPU caches).
  const cases: Array<{ n: number; spread?: number }> = [...counts.map((n) => ({ n })), { n: 1000, spread: 9 }];
  for (const { n, spread } of cases) {
    const { payloads, telemetryRules } = fleetRules(n);
    // Each message matches exactly one rule (none when n = 0: then only the index lookup runs).
    const fleets = spread ?? Math.max(telemetryRules, 1);
    const msgs = Array.from({ length: STREAM }, (_, i) => telemetry(`fleet/${i % fleets}/dev-${i}/telemetry`, i, i % 2 === 0));
    const ns = await measure(HANDLE_ITERATIONS, handleLoop(payloads, msgs));
    // The topic index alone (split + match), to separate lookup cost from running many distinct rules.
    const index = new TopicIndex<number>();
    payloads.forEach((p, i) => index.add(/FROM '([^']+)'/.exec(p.sql)![1]!, i));
    const lookupNs = await measure(EVAL_ITERATIONS, (iterations) => {
      for (let i = 0; i < iterations; i++) sink += index.match(msgs[i % STREAM]!.topic).length;
    });
    if (spread === undefined) results.set(n, ns);
    rows.push({ 'installed rules': String(n), 'rules the stream reaches': String(n === 0 ? 0 : fleets), 'matching rules per msg': n === 0 ? '0' : '1', 'handle ns/msg': nsText(ns), 'msgs/s': perSecond(ns), 'index lookup ns/msg': nsText(lookupNs) });
  }
  return { rows, ratio: results.get(1000)! / results.get(10)! };
}

async function main(): Promise<void> {
  console.log(machineHeader('rules engine: evaluations per second and cost of installed rules (one core)'));
  console.log(`method: warm-up, then ${REPETITIONS} repetitions of a fixed iteration count (evaluate ${EVAL_ITERATIONS.toLocaleString('en-US')}, handle ${HANDLE_ITERATIONS.toLocaleString('en-US')}); median shown`);
  console.log('sinks resolve immediately; handle() drains background actions every 1,000 messages\n');

  const ev = await evaluations();
  console.log('## (a) rule evaluations');
  console.log(table(ev.rows));
  const met = ev.simpleRate >= 1e6;
  console.log(`target >= 1,000,000 simple evaluations/s/core (payload parsed per message): ${met ? 'MET' : 'NOT MET'} (${perSecond(1e9 / ev.simpleRate)}/s)\n`);

  const sc = await scaling();
  console.log('## (b) cost per message vs installed rules (each message matches one rule; 50% fire)');
  console.log(table(sc.rows));
  console.log(`ratio 1000 rules / 10 rules: ${sc.ratio.toFixed(2)} (target < 2: ${sc.ratio < 2 ? 'MET' : 'NOT MET'})`);
  if (sink < 0) console.log(sink);
}

await main();
