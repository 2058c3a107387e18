// Builds the dashboard into dashboard/dist/: app.js (esbuild bundle of src/main.ts, minified,
// with a source map), index.html, and styles.css (uPlot's stylesheet followed by ours).
// Run by `npm run build:dashboard`. Any failure exits non-zero with the reason.

import { build } from 'esbuild';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

/** uPlot's CSS, found the way Node resolves the package (works with hoisted node_modules). */
function uPlotCssPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('uplot/package.json')), 'dist', 'uPlot.min.css');
}

async function main(): Promise<void> {
  const started = performance.now();
  await rm(dist, { recursive: true, force: true });
  await mkdir(dist, { recursive: true });

  const result = await build({
    entryPoints: [join(here, 'src', 'main.ts')],
    outfile: join(dist, 'app.js'),
    bundle: true,
    minify: true,
    sourcemap: true,
    target: 'es2020',
    format: 'iife',
    platform: 'browser',
    logLevel: 'silent', // errors are thrown and printed below, once
    metafile: true,
  });

  const [uplotCss, ownCss] = await Promise.all([readFile(uPlotCssPath(), 'utf8'), readFile(join(here, 'styles.css'), 'utf8')]);
  await writeFile(join(dist, 'styles.css'), `${uplotCss}\n${ownCss}`);
  await copyFile(join(here, 'index.html'), join(dist, 'index.html'));

  const bytes = result.metafile.outputs[join('dashboard', 'dist', 'app.js')]?.bytes ?? Object.values(result.metafile.outputs)[0]?.bytes;
  for (const warning of result.warnings) console.warn(`dashboard build warning: ${warning.text}`);
  console.log(`dashboard built into ${dist} (app.js ${bytes ?? '?'} bytes) in ${Math.round(performance.now() - started)} ms`);
}

main().catch((error: unknown) => {
  const errors = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors;
  if (errors?.length) {
    for (const e of errors) console.error(`dashboard build error: ${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`);
  } else {
    console.error('dashboard build failed:', error);
  }
  process.exit(1);
});
