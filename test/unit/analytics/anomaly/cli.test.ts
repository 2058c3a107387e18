// `npm run detect` and `npm run eval:nab` end to end: the real entry files spawned with tsx on
// real files in a temp dir (and on ../shared/nab when it is there).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../../..');
const NAB = resolve(ROOT, '../shared/nab');

function cli(file: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('npx', ['tsx', join(ROOT, 'analytics/anomaly/cli', file), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the anomaly CLIs', () => {
  let dir: string;
  const rows = Array.from({ length: 280 }, (_, i) => `2014-01-01 ${String(Math.floor(i / 12)).padStart(2, '0')}:${String((i % 12) * 5).padStart(2, '0')}:00,${i === 250 ? 500 : (i * 7) % 11}`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'anomaly-cli-'));
    await writeFile(join(dir, 'in.csv'), `timestamp,value\n${rows.join('\n')}\n`);
    await writeFile(join(dir, 'bad.csv'), `timestamp,value\n${rows[0]}\n2014-01-01 00:05:00,abc\n`);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('detect writes timestamp,value,anomaly_score for every input row, in order', async () => {
    const r = cli('detect.ts', ['--detector', 'ewma', '--input', join(dir, 'in.csv'), '--output', join(dir, 'out.csv'), '--param', 'warmup=50']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = (await readFile(join(dir, 'out.csv'), 'utf8')).trimEnd().split('\n');
    expect(lines[0]).toBe('timestamp,value,anomaly_score');
    expect(lines.length).toBe(281);
    const scores = lines.slice(1).map((l, i) => {
      const [t, v, s] = l.split(',');
      expect(`${t},${v}`).toBe(rows[i]);
      return Number(s);
    });
    expect(scores.every((s) => s >= 0 && s <= 1)).toBe(true);
    expect(scores[250]).toBe(Math.max(...scores));
  });

  it('detect exits 2 naming an unknown detector, a missing file, a bad line or a bad parameter', () => {
    const unknown = cli('detect.ts', ['--detector', 'nope', '--input', join(dir, 'in.csv'), '--output', join(dir, 'x.csv')]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown detector "nope" \(known: .*ewma/);
    const missing = cli('detect.ts', ['--input', join(dir, 'missing.csv'), '--output', join(dir, 'x.csv')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*missing\.csv/);
    const bad = cli('detect.ts', ['--input', join(dir, 'bad.csv'), '--output', join(dir, 'x.csv')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/bad\.csv line 3: bad value "abc"/);
    const param = cli('detect.ts', ['--detector', 'mad', '--param', 'window=1', '--input', join(dir, 'in.csv'), '--output', join(dir, 'x.csv')]);
    expect(param.status).toBe(2);
    expect(param.stderr).toMatch(/parameter window/);
    const flag = cli('detect.ts', ['--bogus']);
    expect(flag.status).toBe(2);
  });

  it('eval:nab exits 2 without --data or with a directory that is not a corpus', () => {
    expect(cli('eval-nab.ts', []).status).toBe(2);
    const r = cli('eval-nab.ts', ['--data', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/windows\.json/);
  });

  const withNab = existsSync(join(NAB, 'windows.json')) ? it : it.skip;
  if (!existsSync(join(NAB, 'windows.json'))) console.warn(`skipping the eval:nab run: no NAB corpus at ${NAB}`);
  withNab('eval:nab scores the named detectors on all three profiles of ../shared/nab', () => {
    const r = cli('eval-nab.ts', ['--data', NAB, '--detector', 'ewma', '--detector', 'gaussian']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\| detector \| standard \| reward_low_FP_rate \| reward_low_FN_rate \| +points\/s \|/);
    for (const name of ['ewma', 'gaussian']) {
      const row = r.stdout.split('\n').find((l) => l.startsWith(`| ${name} `));
      const cells = row!.split('|').slice(2, 5).map((c) => Number(c.trim()));
      expect(cells.every((c) => c > 0 && c <= 100)).toBe(true);
    }
  });
});
