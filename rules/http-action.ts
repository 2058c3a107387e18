// The HTTP action (a webhook, spec §2 "Action behaviours worth copying"): the rule's output is
// POSTed to `url`. Compiled at rule creation: URL and headers checked, templates compiled. The
// delivery itself (retries, timeout, bounded queue, the socket) belongs to the broker's sink.
import type { HttpAction } from './types.js';
import type { CompiledAction } from './actions.js';
import { invoke, requireObject } from './action-util.js';
import { invalidRequest } from './errors.js';
import { serializeOutput } from './sql/values.js';
import { compileTemplate, type Template, type TemplateCtx } from './templates.js';

export const MAX_HTTP_URL_BYTES = 2048;
export const MAX_HTTP_HEADERS = 100;
export const MAX_HTTP_HEADER_KEY_BYTES = 256;

/** RFC 9110 token characters: anything else cannot be sent as a header name. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** AWS allows only https. Self-hosted deployments often post to a service on the same host or
 * private network without TLS, so plain http is accepted on purpose. */
const SCHEME = /^https?:\/\//i;

interface CompiledHeader {
  key: string;
  value: Template;
}

export function compileHttp(raw: HttpAction, field: string, t: TemplateCtx): CompiledAction {
  const a = requireObject(raw, field);
  if (a.auth !== undefined) throw invalidRequest(`${field}.auth (SigV4 signing of HTTP action requests) is not supported yet`);
  if (a.enableBatching === true || a.batchConfig !== undefined) {
    throw invalidRequest(`${field}: batching (enableBatching, batchConfig) is not supported yet`);
  }
  if (a.enableBatching !== undefined && typeof a.enableBatching !== 'boolean') throw invalidRequest(`${field}.enableBatching must be a boolean`);

  const url = checkUrl(a.url, `${field}.url`);
  if (a.confirmationUrl !== undefined) {
    const confirmation = checkUrl(a.confirmationUrl, `${field}.confirmationUrl`);
    if (!url.startsWith(confirmation)) throw invalidRequest(`${field}.url must start with confirmationUrl '${confirmation}'`);
    // Compiled only so that a bad template is refused now; the sink does not need the value.
    compileTemplate(confirmation, `${field}.confirmationUrl`, t);
  }
  const urlOf = compileTemplate(url, `${field}.url`, t);
  const headers = compileHeaders(a.headers, `${field}.headers`, t);
  const hasContentType = headers.some((h) => h.key.toLowerCase() === 'content-type');

  return {
    failedActionName: 'HttpAction',
    durable: false,
    resource: urlOf,
    run(output, s, sinks, msg) {
      const target = urlOf(s);
      const problem = runtimeUrlProblem(target);
      if (problem) return Promise.reject(new Error(`cannot post to '${target}': ${problem}`));
      const out: { key: string; value: string }[] = [];
      for (const h of headers) {
        const value = h.value(s);
        // A substituted value must not smuggle extra header lines into the request.
        if (/[\r\n\0]/.test(value)) return Promise.reject(new Error(`header '${h.key}' has a control character after substitution`));
        out.push({ key: h.key, value });
      }
      // Raw bytes (SELECT * over a non-JSON payload) are not JSON; every other output is.
      if (!hasContentType) out.push({ key: 'content-type', value: Buffer.isBuffer(output) ? 'application/octet-stream' : 'application/json' });
      const body = serializeOutput(output);
      return invoke(() => sinks.http({ url: target, headers: out, body }, msg));
    },
  };
}

function checkUrl(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0) throw invalidRequest(`${field} is required`);
  if (Buffer.byteLength(v, 'utf8') > MAX_HTTP_URL_BYTES) throw invalidRequest(`${field} is longer than ${MAX_HTTP_URL_BYTES} bytes`);
  // The scheme must be literal text, so a template can never turn the request into another protocol.
  if (!SCHEME.test(v)) throw invalidRequest(`${field} must start with http:// or https://`);
  return v;
}

function compileHeaders(v: unknown, field: string, t: TemplateCtx): CompiledHeader[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalidRequest(`${field} must be a list of {key, value}`);
  if (v.length > MAX_HTTP_HEADERS) throw invalidRequest(`${field} has ${v.length} entries, at most ${MAX_HTTP_HEADERS} are allowed`);
  const seen = new Set<string>();
  return v.map((entry, i) => {
    const h = requireObject(entry, `${field}[${i}]`);
    const key = h.key;
    if (typeof key !== 'string' || key.length === 0 || Buffer.byteLength(key, 'utf8') > MAX_HTTP_HEADER_KEY_BYTES) {
      throw invalidRequest(`${field}[${i}].key must be 1 to ${MAX_HTTP_HEADER_KEY_BYTES} bytes`);
    }
    // Templates are not allowed in keys (spec §1.9), and a non-token key could never be sent.
    if (!HEADER_NAME.test(key)) throw invalidRequest(`${field}[${i}].key '${key}' is not a valid HTTP header name (templates are not allowed in keys)`);
    const lower = key.toLowerCase();
    if (seen.has(lower)) throw invalidRequest(`${field}[${i}].key '${key}' appears more than once (header names are case-insensitive)`);
    seen.add(lower);
    if (typeof h.value !== 'string') throw invalidRequest(`${field}[${i}].value must be a string`);
    return { key, value: compileTemplate(h.value, `${field}[${i}].value`, t) };
  });
}

function runtimeUrlProblem(url: string): string | undefined {
  if (Buffer.byteLength(url, 'utf8') > MAX_HTTP_URL_BYTES) return `longer than ${MAX_HTTP_URL_BYTES} bytes after substitution`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a valid URL after substitution';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'scheme must be http or https';
  return undefined;
}
