// AWS IoT policy documents (spec §3.5): validated and compiled once when a policy version is
// created, bound to one connection's facts when it connects (policy variables substituted,
// conditions decided, resources turned into matchers), then asked per message through a small
// memo so a publish on a topic already seen costs one Map lookup.
//
// Semantics, IAM-style: a request is allowed when some Allow statement matches and no Deny
// statement does; nothing is allowed by default. `*` matches any characters (across `/`), `?`
// exactly one; MQTT's `+` and `#` are literal characters. With Version "2012-10-17", `${...}` is
// a policy variable and `${*}`, `${?}`, `${$}` stand for the literal characters; with
// "2008-10-17" (or no Version) `${...}` is literal text, as in IAM.
import { BlockList, isIP } from 'node:net';
import { BrokerError } from '../errors.js';
import type { ConnectionFacts, MqttAction, Permissions } from './permissions.js';

/** AWS's size limit: 2,048 characters, whitespace not counted. */
export const MAX_POLICY_CHARACTERS = 2048;
/** (action, resource) answers remembered per connection; the memo is cleared when full. */
export const PERMISSION_MEMO_LIMIT = 1024;

/** One compiled policy version. `bind` is called once per connection (and again when policies change). */
export interface CompiledPolicy {
  /** the document as given (GetPolicy returns it unchanged) */
  readonly document: string;
  bind(facts: ConnectionFacts): BoundPolicy;
}

/** A policy with one connection's variables substituted and its conditions decided. */
export interface BoundPolicy {
  readonly statements: readonly BoundStatement[];
}

interface BoundStatement {
  deny: boolean;
  action(action: string): boolean;
  resource(resource: string): boolean;
}

// ---- patterns: literal text, wildcards and variables, split once at compile time

type Piece = { text: string } | { wildcard: '*' | '?' } | { variable: (facts: ConnectionFacts) => string | undefined };
type Pattern = readonly Piece[];
type Resolver = (facts: ConnectionFacts) => string | undefined;

const SUPPORTED_OPERATORS = [
  'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
  'Bool', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnNotEquals', 'ArnLike', 'ArnNotLike', 'Null',
] as const;
type Operator = (typeof SUPPORTED_OPERATORS)[number];
const NEGATED: ReadonlySet<Operator> = new Set(['StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'NotIpAddress', 'ArnNotEquals', 'ArnNotLike']);
const WITH_WILDCARDS: ReadonlySet<Operator> = new Set(['StringLike', 'StringNotLike', 'ArnEquals', 'ArnNotEquals', 'ArnLike', 'ArnNotLike']);

interface CompiledCondition {
  operator: Operator;
  ifExists: boolean;
  key: Resolver;
  /** string operators: patterns; IpAddress: one block list; Bool/Null: lower-cased literals */
  values: Pattern[];
  blocks?: BlockList;
}

interface CompiledStatement {
  deny: boolean;
  actions: RegExp;
  notAction: boolean;
  resources: Pattern[];
  notResource: boolean;
  conditions: CompiledCondition[];
}

/**
 * Validates and compiles a policy document (JSON text, or an object from the configuration
 * file). Anything wrong is a MalformedPolicyException whose message says what.
 */
export function compilePolicy(document: string | object): CompiledPolicy {
  const text = typeof document === 'string' ? document : JSON.stringify(document);
  const statements = parseDocument(text);
  return {
    document: text,
    bind: (facts) => ({ statements: statements.map((s) => bindStatement(s, facts)).filter((s): s is BoundStatement => s !== undefined) }),
  };
}

/** Combines bound policies into one connection's permissions (explicit Deny wins), memoized. */
export function permissionsOf(policies: readonly BoundPolicy[]): Permissions {
  const statements = policies.flatMap((p) => p.statements);
  const memo = new Map<string, boolean>();
  const decide = (action: string, resource: string): boolean => {
    let allowed = false;
    for (const s of statements) {
      if (!s.action(action) || !s.resource(resource)) continue;
      if (s.deny) return false;
      allowed = true;
    }
    return allowed;
  };
  return {
    allows(action: MqttAction, resource: string): boolean {
      if (statements.length === 0) return false;
      const key = `${action}\u0000${resource}`;
      const known = memo.get(key);
      if (known !== undefined) return known;
      const answer = decide(action, resource);
      if (memo.size >= PERMISSION_MEMO_LIMIT) memo.clear();
      memo.set(key, answer);
      return answer;
    },
  };
}

// ---- validation

function malformed(message: string): BrokerError {
  return new BrokerError('MalformedPolicyException', message);
}

function parseDocument(text: string): CompiledStatement[] {
  if (text.trim() === '') throw malformed('the policy document is empty');
  const size = text.replace(/\s/g, '').length;
  if (size > MAX_POLICY_CHARACTERS) throw malformed(`the policy document has ${size} characters without whitespace; the limit is ${MAX_POLICY_CHARACTERS}`);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw malformed(`the policy document is not JSON (${(err as Error).message})`);
  }
  if (!isObject(doc)) throw malformed('the policy document must be a JSON object');
  for (const key of Object.keys(doc)) {
    if (!['Version', 'Id', 'Statement'].includes(key)) throw malformed(`unknown top-level element '${key}' (expected Version, Id, Statement)`);
  }
  const version = doc.Version ?? '2008-10-17';
  if (version !== '2012-10-17' && version !== '2008-10-17') throw malformed(`Version must be "2012-10-17" or "2008-10-17", got ${JSON.stringify(doc.Version)}`);
  if (doc.Id !== undefined && typeof doc.Id !== 'string') throw malformed('Id must be a string');
  if (doc.Statement === undefined) throw malformed('the policy document has no Statement');
  const list = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (list.length === 0) throw malformed('Statement must not be empty');
  const variables = version === '2012-10-17';
  return list.map((s, i) => compileStatement(s, Array.isArray(doc.Statement) ? `Statement[${i}]` : 'Statement', variables));
}

function compileStatement(s: unknown, where: string, variables: boolean): CompiledStatement {
  if (!isObject(s)) throw malformed(`${where} must be an object`);
  for (const key of Object.keys(s)) {
    if (key === 'Principal' || key === 'NotPrincipal') throw malformed(`${where}.${key}: AWS IoT policies have no Principal; attach the policy to a target instead`);
    if (!['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition'].includes(key)) throw malformed(`${where}: unknown element '${key}'`);
  }
  if (s.Sid !== undefined && typeof s.Sid !== 'string') throw malformed(`${where}.Sid must be a string`);
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') throw malformed(`${where}.Effect must be "Allow" or "Deny", got ${JSON.stringify(s.Effect)}`);
  const [actionKey, actionList] = exactlyOne(s, 'Action', 'NotAction', where);
  const [resourceKey, resourceList] = exactlyOne(s, 'Resource', 'NotResource', where);
  const actions = actionList.map((a, i) => {
    if (a !== '*' && !/^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+$/.test(a)) throw malformed(`${where}.${actionKey}[${i}] '${a}' is not an action such as iot:Publish or iot:*`);
    return globSource(a);
  });
  const resources = resourceList.map((r, i) => {
    if (r !== '*' && !r.startsWith('arn:')) throw malformed(`${where}.${resourceKey}[${i}] '${r}' is not an ARN (arn:aws:iot:<region>:<account>:topic/<name>, ...) or *`);
    return parsePattern(r, { variables, wildcards: true }, `${where}.${resourceKey}[${i}]`);
  });
  return {
    deny: s.Effect === 'Deny',
    actions: new RegExp(`^(?:${actions.join('|')})$`, 'i'),
    notAction: actionKey === 'NotAction',
    resources,
    notResource: resourceKey === 'NotResource',
    conditions: s.Condition === undefined ? [] : compileConditions(s.Condition, `${where}.Condition`, variables),
  };
}

function exactlyOne(s: Record<string, unknown>, a: string, notA: string, where: string): [string, string[]] {
  if (s[a] !== undefined && s[notA] !== undefined) throw malformed(`${where} has both ${a} and ${notA}`);
  const key = s[a] !== undefined ? a : notA;
  const value = s[key];
  if (value === undefined) throw malformed(`${where} has no ${a}`);
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw malformed(`${where}.${key} must not be empty`);
  list.forEach((v, i) => {
    if (typeof v !== 'string' || v === '') throw malformed(`${where}.${key}${Array.isArray(value) ? `[${i}]` : ''} must be a non-empty string`);
  });
  return [key, list as string[]];
}

function compileConditions(block: unknown, where: string, variables: boolean): CompiledCondition[] {
  if (!isObject(block)) throw malformed(`${where} must be an object of operators`);
  const out: CompiledCondition[] = [];
  for (const [rawOperator, keys] of Object.entries(block)) {
    const ifExists = rawOperator.endsWith('IfExists') && rawOperator !== 'IfExists';
    const operator = (ifExists ? rawOperator.slice(0, -'IfExists'.length) : rawOperator) as Operator;
    if (!SUPPORTED_OPERATORS.includes(operator) || (ifExists && operator === 'Null')) {
      throw malformed(`${where}: condition operator '${rawOperator}' is not supported (supported: ${SUPPORTED_OPERATORS.join(', ')}, each but Null also with IfExists)`);
    }
    if (!isObject(keys) || Object.keys(keys).length === 0) throw malformed(`${where}.${rawOperator} must be an object of condition keys and values`);
    for (const [keyName, raw] of Object.entries(keys)) {
      const at = `${where}.${rawOperator}.${keyName}`;
      const key = resolverOf(keyName);
      if (!key) throw malformed(`${at}: condition key '${keyName}' is not supported (iot:ClientId, aws:SourceIp, iot:Connection.Thing.*, iot:Certificate.*)`);
      const list = Array.isArray(raw) ? raw : [raw];
      if (list.length === 0) throw malformed(`${at} has no values`);
      const texts = list.map((v) => {
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw malformed(`${at}: condition values must be strings, numbers or booleans`);
        return String(v);
      });
      const condition: CompiledCondition = { operator, ifExists, key, values: [] };
      if (operator === 'IpAddress' || operator === 'NotIpAddress') condition.blocks = blockListOf(texts, at);
      else if (operator === 'Bool' || operator === 'Null') {
        for (const t of texts) if (!/^(true|false)$/i.test(t)) throw malformed(`${at}: ${operator} takes "true" or "false", got '${t}'`);
        condition.values = texts.map((t) => [{ text: t.toLowerCase() }]);
      } else condition.values = texts.map((t) => parsePattern(t, { variables, wildcards: WITH_WILDCARDS.has(operator) }, at));
      out.push(condition);
    }
  }
  return out;
}

function blockListOf(cidrs: string[], where: string): BlockList {
  const list = new BlockList();
  for (const c of cidrs) {
    const [address, bits, extra] = c.split('/');
    const family = isIP(address ?? '');
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (family === 0 || extra !== undefined || !(prefix >= 0 && prefix <= max)) throw malformed(`${where}: '${c}' is not an IP address or CIDR block`);
    list.addSubnet(address!, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/**
 * Splits a resource or condition value into pieces. Variables and escapes only with Version
 * 2012-10-17; wildcards only where the operator has them (resources, *Like, Arn*).
 */
function parsePattern(text: string, how: { variables: boolean; wildcards: boolean }, where: string): Pattern {
  const pieces: Piece[] = [];
  let literal = '';
  const flush = () => {
    if (literal !== '') pieces.push({ text: literal });
    literal = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (how.variables && c === '$' && text[i + 1] === '{') {
      const end = text.indexOf('}', i + 2);
      if (end < 0) throw malformed(`${where}: '${text}' has an unclosed \${`);
      const inner = text.slice(i + 2, end).trim();
      i = end;
      if (inner === '*' || inner === '?' || inner === '$') literal += inner;
      else {
        flush();
        // an unknown variable never resolves: its resource or value matches nothing
        pieces.push({ variable: resolverOf(inner) ?? (() => undefined) });
      }
    } else if (how.wildcards && (c === '*' || c === '?')) {
      flush();
      pieces.push({ wildcard: c });
    } else literal += c;
  }
  flush();
  return pieces;
}

/** The value of a policy variable or condition key for one connection; undefined when it has none. */
function resolverOf(name: string): Resolver | undefined {
  const attribute = /^iot:Connection\.Thing\.Attributes\[([^\]]+)\]$/i.exec(name);
  if (attribute) {
    const attr = attribute[1]!;
    return (f) => (f.thing && Object.hasOwn(f.thing.attributes, attr) ? f.thing.attributes[attr] : undefined);
  }
  const field = /^iot:Certificate\.(Subject|Issuer)\.([A-Za-z.]+)$/i.exec(name);
  if (field) {
    const part = field[1]!.toLowerCase() === 'subject' ? 'subject' : 'issuer';
    const fieldName = field[2]!;
    return (f) => {
      const fields = f.certificate?.[part];
      if (!fields) return undefined;
      if (Object.hasOwn(fields, fieldName)) return fields[fieldName];
      const found = Object.keys(fields).find((k) => k.toLowerCase() === fieldName.toLowerCase());
      return found === undefined ? undefined : fields[found];
    };
  }
  switch (name.toLowerCase()) {
    case 'iot:clientid': return (f) => f.clientId;
    case 'aws:sourceip': return (f) => f.sourceIp;
    case 'iot:connection.thing.thingname': return (f) => f.thing?.thingName;
    case 'iot:connection.thing.thingtypename': return (f) => f.thing?.thingTypeName;
    // "true" or "false": the thing policy variables page gives it both values
    case 'iot:connection.thing.isattached': return (f) => (f.thing ? 'true' : 'false');
    case 'iot:certificate.serialnumber': return (f) => f.certificate?.serialNumber;
    case 'iot:certificate.validity.notbefore': return (f) => f.certificate?.notBefore;
    case 'iot:certificate.validity.notafter': return (f) => f.certificate?.notAfter;
    default: return undefined;
  }
}

// ---- binding to one connection

/** A pattern with the connection's variables substituted: a literal, a regex source, or unresolved. */
function substitute(p: Pattern, facts: ConnectionFacts): { exact: string } | { regex: string } | undefined {
  let source = '';
  let exact = '';
  let wild = false;
  for (const piece of p) {
    if ('wildcard' in piece) {
      wild = true;
      source += piece.wildcard === '*' ? '[\\s\\S]*' : '[\\s\\S]';
      continue;
    }
    // a substituted value is literal text: a client id of `*` is not a wildcard
    const text = 'text' in piece ? piece.text : piece.variable(facts);
    if (text === undefined) return undefined;
    exact += text;
    source += escapeRegex(text);
  }
  return wild ? { regex: source } : { exact };
}

/** One matcher for a list of patterns: a Set for the literal ones, one regex for the rest. */
function matcherOf(patterns: readonly Pattern[], facts: ConnectionFacts, flags = ''): { match(value: string): boolean; unresolved: boolean } {
  const exact = new Set<string>();
  const sources: string[] = [];
  let unresolved = false;
  for (const p of patterns) {
    const s = substitute(p, facts);
    if (s === undefined) unresolved = true;
    else if ('exact' in s) exact.add(flags.includes('i') ? s.exact.toLowerCase() : s.exact);
    else sources.push(s.regex);
  }
  const regex = sources.length > 0 ? new RegExp(`^(?:${sources.join('|')})$`, flags) : undefined;
  const fold = flags.includes('i');
  return {
    match: (value) => exact.has(fold ? value.toLowerCase() : value) || (regex !== undefined && regex.test(value)),
    unresolved,
  };
}

function bindStatement(s: CompiledStatement, facts: ConnectionFacts): BoundStatement | undefined {
  // every condition key we support is a fact of the connection, so conditions are decided here
  if (!s.conditions.every((c) => holds(c, facts))) return undefined;
  const actions = s.actions;
  const action = s.notAction ? (a: string) => !actions.test(a) : (a: string) => actions.test(a);
  const resources = matcherOf(s.resources, facts);
  if (s.notResource) {
    // an exclusion that cannot be resolved must not widen an Allow: the statement is dropped
    if (resources.unresolved && !s.deny) return undefined;
    return { deny: s.deny, action, resource: (r) => !resources.match(r) };
  }
  return { deny: s.deny, action, resource: resources.match };
}

function holds(c: CompiledCondition, facts: ConnectionFacts): boolean {
  const value = c.key(facts);
  if (c.operator === 'Null') return c.values.some((v) => (v[0] as { text: string }).text === String(value === undefined));
  if (value === undefined) return c.ifExists || NEGATED.has(c.operator);
  let any: boolean;
  switch (c.operator) {
    case 'Bool':
      any = c.values.some((v) => (v[0] as { text: string }).text === value.toLowerCase());
      break;
    case 'IpAddress':
    case 'NotIpAddress': {
      const family = isIP(value);
      any = family !== 0 && c.blocks!.check(value, family === 4 ? 'ipv4' : 'ipv6');
      break;
    }
    case 'StringEqualsIgnoreCase':
    case 'StringNotEqualsIgnoreCase':
      any = matcherOf(c.values, facts, 'i').match(value);
      break;
    default:
      any = matcherOf(c.values, facts).match(value);
  }
  return NEGATED.has(c.operator) ? !any : any;
}

// ---- helpers

function globSource(glob: string): string {
  return glob.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : escapeRegex(c))).join('');
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
