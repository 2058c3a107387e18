// `npm run detect`: scores a timestamp,value CSV with one detector (see commands.ts).
import { runDetect } from './commands.js';

process.exitCode = await runDetect(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
});
