// `npm run eval:nab`: scores detectors on a NAB corpus and prints the table (see commands.ts).
import { runEvalNab } from './commands.js';

process.exitCode = await runEvalNab(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});
