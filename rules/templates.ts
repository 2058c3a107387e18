// Substitution templates `${expr}` in action fields (spec §1.9), compiled when the rule is
// defined. Literal text between templates is kept; each expression result is inserted in its
// standard string form (Undefined and Null insert nothing).
import type { SqlVersion } from './types.js';
import { invalidRequest, RulesError } from './errors.js';
import { compileStandaloneExpression, type SqlFeatures } from './sql/compile.js';
import type { Scope } from './sql/scope.js';
import { toStr } from './sql/values.js';

export type Template = (s: Scope) => string;

/** What a rule's templates may reference: its SQL version, SET variables and engine features. */
export interface TemplateCtx {
  version: SqlVersion;
  vars: ReadonlyMap<string, number>;
  features: SqlFeatures;
}

export function compileTemplate(text: string, field: string, t: TemplateCtx): Template {
  const parts: Array<string | ((s: Scope) => string)> = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('${', i);
    if (open < 0) { parts.push(text.slice(i)); break; }
    if (open > i) parts.push(text.slice(i, open));
    const close = findClose(text, open + 2);
    if (close < 0) throw invalidRequest(`${field}: template '\${' at position ${open + 1} is not closed by '}'`);
    const source = text.slice(open + 2, close);
    let ev;
    try {
      ev = compileStandaloneExpression(source, t.version, t.vars, t.features);
    } catch (e) {
      const reason = e instanceof RulesError ? e.message : String(e);
      throw invalidRequest(`${field}: invalid template \${${source}}: ${reason}`);
    }
    parts.push((s) => toStr(ev(s)) ?? '');
    i = close + 1;
  }
  if (parts.every((p) => typeof p === 'string')) {
    const fixed = parts.join('');
    return () => fixed;
  }
  return (s) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : p(s);
    return out;
  };
}

/** Index of the `}` closing a template, skipping quoted strings and nested object braces. */
function findClose(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      if (end < 0) return -1;
      i = end;
    } else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}
