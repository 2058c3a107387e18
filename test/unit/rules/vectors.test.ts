// Conformance vectors of spec §8 (../shared/vectors/iot-sql.json), run through a real engine:
// the rule's output is captured through a republish action, each substitution template of a
// vector through one more republish action whose topic is that template.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRulesEngine, type RuleAction, type SqlVersion } from '../../../rules/index.js';

interface Vector {
  id: string;
  sql: string;
  version: SqlVersion;
  topic: string;
  clientid?: string;
  protocol?: 'http';
  rule_name?: string;
  payload: unknown;
  binary?: boolean;
  expect: unknown;
  expect_kind?: 'json' | 'pattern' | 'text' | 'raw';
  templates?: Array<{ field: string; template: string; expect: unknown }>;
  tolerance?: number;
  status?: 'doubtful';
}

/** Vectors this engine does not pass yet. Each must still fail: whoever makes one pass removes
 * it from this list (a ratchet). */
const NOT_YET_SUPPORTED: ReadonlySet<string> = new Set<string>([]);

const vectorsPath = fileURLToPath(new URL('../../../../shared/vectors/iot-sql.json', import.meta.url));
const vectors: Vector[] = existsSync(vectorsPath) ? (JSON.parse(readFileSync(vectorsPath, 'utf8')) as Vector[]) : [];
const enforced = vectors.filter((v) => v.status !== 'doubtful');

async function runVector(v: Vector): Promise<string | undefined> {
  const published: Buffer[] = [];
  const topics: string[] = [];
  const engine = createRulesEngine({
    channel: async () => {},
    http: async () => {},
    republish: async (topic, payload) => {
      topics.push(topic);
      published.push(payload);
    },
  });
  const actions: RuleAction[] = [{ republish: { topic: 'vector/output' } }];
  for (const t of v.templates ?? []) actions.push({ republish: { topic: t.template } });
  try {
    engine.putRule(v.rule_name ?? 'vector_rule', { sql: v.sql, awsIotSqlVersion: v.version, actions });
  } catch (e) {
    return `rule refused: ${(e as Error).message}`;
  }
  const payload = v.binary ? Buffer.from(v.payload as string, 'base64') : Buffer.from(JSON.stringify(v.payload));
  await engine.handle({ topic: v.topic, payload, clientId: v.clientid, protocol: v.protocol, receivedAt: Date.now() });
  if (v.expect === null) return published.length === 0 ? undefined : `fired with ${published[0]!.toString()}`;
  if (published.length === 0) return 'did not fire';
  const out = published[0]!;
  const problem = compareOutput(v, out);
  if (problem) return problem;
  for (const [i, t] of (v.templates ?? []).entries()) {
    const p = matchValue(t.expect, topics[i + 1], 0, `template ${t.template}`);
    if (p) return p;
  }
  return undefined;
}

function compareOutput(v: Vector, out: Buffer): string | undefined {
  switch (v.expect_kind) {
    case 'raw': {
      const want = (v.expect as { base64: string }).base64;
      return out.toString('base64') === want ? undefined : `raw output ${out.toString('base64')} != ${want}`;
    }
    case 'text':
      return out.toString('utf8') === v.expect ? undefined : `text output ${out.toString('utf8')} != ${String(v.expect)}`;
    default: {
      let actual: unknown;
      try {
        actual = JSON.parse(out.toString('utf8'));
      } catch {
        return `output is not JSON: ${out.toString('utf8')}`;
      }
      return matchValue(v.expect, actual, v.tolerance ?? 0, 'output');
    }
  }
}

/** Deep comparison; numbers within tolerance; `$matches` / `$type` / `$range` leaves (pattern). */
function matchValue(want: unknown, got: unknown, tolerance: number, path: string): string | undefined {
  if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
    const w = want as Record<string, unknown>;
    if (typeof w.$matches === 'string') return typeof got === 'string' && new RegExp(w.$matches).test(got) ? undefined : `${path}: ${JSON.stringify(got)} does not match ${w.$matches}`;
    if (w.$type === 'integer') return Number.isInteger(got) ? undefined : `${path}: ${JSON.stringify(got)} is not an integer`;
    if (Array.isArray(w.$range)) {
      const [lo, hi] = w.$range as [number, number];
      return typeof got === 'number' && got >= lo && got <= hi ? undefined : `${path}: ${JSON.stringify(got)} not in [${lo}, ${hi}]`;
    }
    if (got === null || typeof got !== 'object' || Array.isArray(got)) return `${path}: expected an object, got ${JSON.stringify(got)}`;
    const g = got as Record<string, unknown>;
    const wantKeys = Object.keys(w).sort();
    const gotKeys = Object.keys(g).sort();
    if (wantKeys.join('\u0000') !== gotKeys.join('\u0000')) return `${path}: keys ${JSON.stringify(gotKeys)} != ${JSON.stringify(wantKeys)}`;
    for (const k of wantKeys) {
      const p = matchValue(w[k], g[k], tolerance, `${path}.${k}`);
      if (p) return p;
    }
    return undefined;
  }
  if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) return `${path}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`;
    for (let i = 0; i < want.length; i++) {
      const p = matchValue(want[i], got[i], tolerance, `${path}[${i}]`);
      if (p) return p;
    }
    return undefined;
  }
  if (typeof want === 'number' && typeof got === 'number') return Math.abs(want - got) <= tolerance ? undefined : `${path}: ${got} != ${want}`;
  return want === got ? undefined : `${path}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`;
}

if (vectors.length === 0) {
  describe.skip(`IoT SQL vectors: ${vectorsPath} not found (the ../shared/vectors folder is missing)`, () => {
    it('needs the vectors file', () => {});
  });
} else {
  describe('IoT SQL conformance vectors', () => {
    it('lists only ids that exist among the enforced vectors as not yet supported', () => {
      const ids = new Set(enforced.map((v) => v.id));
      expect([...NOT_YET_SUPPORTED].filter((id) => !ids.has(id))).toEqual([]);
    });

    for (const v of enforced) {
      if (NOT_YET_SUPPORTED.has(v.id)) {
        it(`still fails vector ${v.id} (listed as not yet supported: remove it from the list once it passes)`, async () => {
          expect(await runVector(v)).toBeDefined();
        });
      } else {
        it(`produces the documented result for vector ${v.id}: ${v.sql}`, async () => {
          expect(await runVector(v)).toBeUndefined();
        });
      }
    }
  });
}
