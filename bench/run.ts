// `npm run bench [-- name ...]`: runs every bench/*.bench.ts (or those whose name contains one of
// the arguments), each in its own process so one cannot warm or starve the next.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DIR = fileURLToPath(new URL('.', import.meta.url));
const filters = process.argv.slice(2);
const benches = readdirSync(DIR)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

let failed = 0;
for (const file of benches) {
  const res = spawnSync(process.execPath, [...process.execArgv, `${DIR}${file}`], { stdio: 'inherit' });
  if (res.status !== 0) {
    failed++;
    console.error(`bench ${file} failed with exit code ${res.status}`);
  }
  console.log('');
}
process.exit(failed ? 1 : 0);
