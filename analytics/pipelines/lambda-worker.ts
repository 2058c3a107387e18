// The code a lambda worker thread runs. Kept as JavaScript source evaluated by the Worker
// (`eval: true`) rather than a .ts file, because a worker thread starts without the TypeScript
// loader the parent runs under (tsx in production, SWC under jest): plain JS runs in both.
//
// Protocol (one invocation at a time; the host never sends the next before an answer):
//   host → worker  { id, events, context }
//   worker → host  { id, ok: true, json }  (the handler's result as JSON text, as Lambda returns it)
//                  { id, ok: false, error, missing }
// The module is re-imported when its modification time changes, so editing a function file takes
// effect on the next invocation without a restart.
export const LAMBDA_WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const { pathToFileURL } = require('node:url');

let loaded = { version: -1, handler: null };

async function handler() {
  let version;
  try {
    version = statSync(workerData.file).mtimeMs;
  } catch {
    const e = new Error('function module ' + workerData.file + ' does not exist');
    e.missing = true;
    throw e;
  }
  if (loaded.version !== version) {
    const mod = await import(pathToFileURL(workerData.file).href + '?v=' + version);
    const h = typeof mod.handler === 'function' ? mod.handler
      : typeof mod.default === 'function' ? mod.default
      : mod.default && typeof mod.default.handler === 'function' ? mod.default.handler
      : null;
    if (!h) throw new Error(workerData.file + ' exports no handler function (export async function handler(events) { ... })');
    loaded = { version, handler: h };
  }
  return loaded.handler;
}

parentPort.on('message', async ({ id, events, context }) => {
  try {
    const h = await handler();
    const result = await h(events, context);
    const json = JSON.stringify(result);
    parentPort.postMessage({ id, ok: true, json: json === undefined ? 'null' : json });
  } catch (e) {
    parentPort.postMessage({ id, ok: false, error: e instanceof Error ? e.message : String(e), missing: !!(e && e.missing) });
  }
});
`;
