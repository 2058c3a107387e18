// One rule for every coded error in the project: a code means one thing with one HTTP status
// everywhere, and README.md documents it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BROKER_ERRORS } from '../broker/index.js';
import { RULES_ERRORS } from '../rules/index.js';
import { ANALYTICS_ERRORS } from '../analytics/index.js';
import { SIM_ERRORS } from '../devices-sim/index.js';

type Table = Record<string, { statusCode: number; description: string }>;
const TABLES: Record<string, Table> = { broker: BROKER_ERRORS, rules: RULES_ERRORS, analytics: ANALYTICS_ERRORS, 'devices-sim': SIM_ERRORS };
const README = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const entries = Object.entries(TABLES).flatMap(([folder, table]) => Object.entries(table).map(([code, e]) => ({ folder, code, ...e })));

describe('coded errors', () => {
  it('give every code an HTTP status and a description', () => {
    for (const e of entries) {
      expect({ code: e.code, ok: e.statusCode >= 400 && e.statusCode <= 599 && e.description.length > 10 }).toEqual({ code: e.code, ok: true });
    }
  });

  it('give a code shared by several folders the same HTTP status in each', () => {
    const statusOf = new Map<string, number>();
    const conflicts: string[] = [];
    for (const e of entries) {
      const seen = statusOf.get(e.code);
      if (seen !== undefined && seen !== e.statusCode) conflicts.push(`${e.code}: ${seen} vs ${e.statusCode} (${e.folder})`);
      statusOf.set(e.code, e.statusCode);
    }
    expect(conflicts).toEqual([]);
  });

  it('are all documented in README.md with their status', () => {
    const undocumented = entries.filter((e) => !new RegExp(`\\| \`${e.code}\` \\| ${e.statusCode} \\|`).test(README)).map((e) => `${e.folder}:${e.code}`);
    expect(undocumented).toEqual([]);
  });
});
