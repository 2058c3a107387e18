// Serves the dashboard bundle (dashboard/dist, built by `npm run build:dashboard`). The files are
// read once at start: the bundle is small and this keeps disk reads off the request path.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Http, Reply } from '../server.js';

const DIST = fileURLToPath(new URL('../../../dashboard/dist/', import.meta.url));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export function dashboardRoutes(distDir = DIST) {
  const files = new Map<string, { type: string; body: Buffer }>();
  if (existsSync(distDir)) {
    for (const name of readdirSync(distDir)) {
      const type = TYPES[extname(name)];
      if (type) files.set(name, { type, body: readFileSync(join(distDir, name)) });
    }
  }
  return (app: Http) => {
    app.get('/', async (_req, reply) => serve('index.html', reply));
    app.get<{ Params: { file: string } }>('/:file', async (req, reply) => serve(req.params.file, reply));
  };

  function serve(name: string, reply: Reply) {
    const file = files.get(name);
    if (file) return reply.type(file.type).header('cache-control', name === 'index.html' ? 'no-cache' : 'max-age=300').send(file.body);
    if (files.size === 0) {
      return reply.status(503).send({ code: 'ServiceUnavailableException', message: 'the dashboard has not been built: run `npm run build:dashboard`' });
    }
    return reply.status(404).send({ code: 'NotFound', message: `no file ${name}` });
  }
}
