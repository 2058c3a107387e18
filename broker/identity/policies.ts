// AWS IoT policies (spec §3.5): named policies with up to 5 versions, one of them the default,
// attached to targets (certificate ARNs, thing-group ARNs, and our password credentials'
// `…:password/<thingName>` ARNs). Request and response shapes are those of @aws-sdk/client-iot.
// The store is also the PolicyEngine (permissions.ts) the MQTT hooks ask: each default version is
// compiled once when it is created or loaded, and bound per connection.
//
// Persistence: `<dataDir>/policies.json`, rewritten whole on each change (temp file, fsync when
// asked, rename), like certificates.json: changes are rare administrative calls and the file is
// small. Memory changes only after the file is written, so a failed write refuses the change.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerError, isCodedError } from '../errors.js';
import { compilePolicy, permissionsOf, type CompiledPolicy } from './policy-document.js';
import type { ConnectionFacts, Permissions, PolicyEngine } from './permissions.js';
import { writeFileAtomic } from '../atomic-file.js';

export const POLICIES_FILE = 'policies.json';
export const POLICY_LIMITS = { versions: 5, policiesPerTarget: 10, pageSize: 250 } as const;
const NAME = /^[\w+=,.@-]{1,128}$/;

interface VersionRecord {
  versionId: string;
  document: string;
  /** epoch ms */
  createDate: number;
}

interface PolicyRecord {
  policyName: string;
  versions: VersionRecord[];
  defaultVersionId: string;
  /** version ids are never reused, as on AWS */
  nextVersionId: number;
  creationDate: number;
  lastModifiedDate: number;
  /** changes whenever the default version changes */
  generationId: string;
  tags?: { Key: string; Value?: string }[];
}

interface FileShape {
  version: 1;
  policies: PolicyRecord[];
  /** target ARN → policy names, in attach order */
  attachments: Record<string, string[]>;
}

export interface PolicyStoreOptions {
  dataDir: string;
  region: string;
  accountId: string;
  /** whether a target named by a valid ARN exists (certificate, thing group, password credential) */
  targetExists(target: string): boolean;
  /** the ARNs of a thing group's ancestors, nearest first (ListAttachedPolicies `recursive`) */
  groupAncestors?(groupArn: string): string[];
  fsync?: boolean;
  now?(): number;
}

export interface DeclaredPolicy {
  policyName: string;
  /** a JSON object, or the JSON text */
  policyDocument: string | object;
}

export type PolicyStore = ReturnType<typeof openPolicyStore>;

export function openPolicyStore(options: PolicyStoreOptions) {
  const path = join(options.dataDir, POLICIES_FILE);
  const now = options.now ?? Date.now;
  const arnPrefix = `arn:aws:iot:${options.region}:${options.accountId}:`;
  const policyArn = (name: string) => `${arnPrefix}policy/${name}`;

  const loaded = readFile(path);
  const policies = new Map(loaded.policies.map((p) => [p.policyName, p]));
  const attachments = new Map(Object.entries(loaded.attachments));
  /** policy name → its compiled default version */
  const compiled = new Map<string, CompiledPolicy>();
  for (const p of policies.values()) {
    try {
      compiled.set(p.policyName, compilePolicy(versionOf(p, p.defaultVersionId).document));
    } catch (err) {
      throw new BrokerError('PoliciesFileInvalid', `${path}: policy ${p.policyName} version ${p.defaultVersionId} no longer compiles (${(err as Error).message})`);
    }
  }
  let generation = 0;
  const listeners = new Set<() => void>();

  /** Writes the state as it will be after the change, then applies it to memory and tells listeners. */
  function commit(next: { policies?: Map<string, PolicyRecord>; attachments?: Map<string, string[]> }, defaults?: [string, CompiledPolicy | undefined]): void {
    const nextPolicies = next.policies ?? policies;
    const nextAttachments = next.attachments ?? attachments;
    writeFileAtomic(path, JSON.stringify({ version: 1, policies: [...nextPolicies.values()], attachments: Object.fromEntries(nextAttachments) }) + '\n', { fsync: options.fsync === true, mode: 0o600 });
    if (next.policies) replace(policies, next.policies);
    if (next.attachments) replace(attachments, next.attachments);
    if (defaults) {
      if (defaults[1]) compiled.set(defaults[0], defaults[1]);
      else compiled.delete(defaults[0]);
    }
    generation++;
    for (const listener of listeners) listener();
  }
  const withPolicy = (p: PolicyRecord) => new Map(policies).set(p.policyName, p);

  function policyOf(name: unknown): PolicyRecord {
    const p = typeof name === 'string' ? policies.get(name) : undefined;
    if (!p) throw new BrokerError('ResourceNotFoundException', `Policy ${String(name)} does not exist`);
    return p;
  }
  function versionOf(p: PolicyRecord, id: unknown): VersionRecord {
    const v = p.versions.find((x) => x.versionId === id);
    if (!v) throw new BrokerError('ResourceNotFoundException', `Policy ${p.policyName} has no version ${String(id)}`);
    return v;
  }
  function checkName(name: unknown): string {
    if (typeof name !== 'string' || !NAME.test(name)) throw invalid(`policyName must be 1-128 characters of [\\w+=,.@-], got ${JSON.stringify(name)}`);
    return name;
  }
  function compileDocument(document: unknown): CompiledPolicy {
    if (document === undefined) throw invalid('policyDocument is required');
    if (typeof document !== 'string') throw new BrokerError('MalformedPolicyException', 'policyDocument must be a string holding the JSON document');
    return compilePolicy(document);
  }
  /** validates a target ARN; `mustExist` for attaching (detaching a target deleted since is allowed) */
  function checkTarget(target: unknown, mustExist: boolean): string {
    if (typeof target !== 'string' || target === '') throw invalid('target is required');
    const m = /^arn:aws:iot:([^:]+):([^:]+):(cert|thinggroup|password)\/(.+)$/.exec(target);
    if (!m) throw invalid(`target ${target} is not a certificate, thing group or password credential ARN (arn:aws:iot:<region>:<account>:cert/<id>, …:thinggroup/<name>, …:password/<thingName>)`);
    if (mustExist && (m[1] !== options.region || m[2] !== options.accountId || !options.targetExists(target))) {
      throw new BrokerError('ResourceNotFoundException', `Target ${target} does not exist`);
    }
    return target;
  }
  function targetsOf(name: string): string[] {
    const out: string[] = [];
    for (const [target, names] of attachments) if (names.includes(name)) out.push(target);
    return out.sort();
  }
  const ref = (name: string) => ({ policyName: name, policyArn: policyArn(name) });
  const seconds = (ms: number) => ms / 1000;
  const newGenerationId = () => randomBytes(32).toString('hex');

  const store = {
    // ---- the PolicyEngine (permissions.ts)
    get generation(): number {
      return generation;
    },
    permissionsFor(targets: readonly string[], facts: ConnectionFacts): Permissions {
      const names = new Set<string>();
      for (const t of targets) for (const n of attachments.get(t) ?? []) names.add(n);
      return permissionsOf([...names].flatMap((n) => {
        const c = compiled.get(n);
        return c ? [c.bind(facts)] : [];
      }));
    },

    policyArn,
    path,
    /** Calls `listener` after every committed change (policy, version, attachment). Returns the unsubscribe. */
    onChange(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    createPolicy(name: string, req: { policyDocument?: unknown; tags?: unknown }) {
      checkName(name);
      const policy = compileDocument(req.policyDocument);
      if (policies.has(name)) throw new BrokerError('ResourceAlreadyExistsException', `Policy ${name} already exists`, { resourceId: name, resourceArn: policyArn(name) });
      const t = now();
      const record: PolicyRecord = {
        policyName: name, versions: [{ versionId: '1', document: policy.document, createDate: t }], defaultVersionId: '1', nextVersionId: 2,
        creationDate: t, lastModifiedDate: t, generationId: newGenerationId(),
      };
      const tags = checkTags(req.tags);
      if (tags) record.tags = tags;
      commit({ policies: withPolicy(record) }, [name, policy]);
      return { policyName: name, policyArn: policyArn(name), policyDocument: policy.document, policyVersionId: '1' };
    },

    getPolicy(name: string) {
      const p = policyOf(name);
      return {
        policyName: p.policyName, policyArn: policyArn(p.policyName), policyDocument: versionOf(p, p.defaultVersionId).document,
        defaultVersionId: p.defaultVersionId, creationDate: seconds(p.creationDate), lastModifiedDate: seconds(p.lastModifiedDate), generationId: p.generationId,
      };
    },

    /** ListPolicies: by name (descending with ascendingOrder=false); marker is the last name of the previous page. */
    listPolicies(req: { marker?: string; pageSize?: number; ascendingOrder?: boolean } = {}) {
      const names = [...policies.keys()].sort();
      if (req.ascendingOrder === false) names.reverse();
      const { items, nextMarker } = pageOf(names, req, req.ascendingOrder === false);
      return withMarker({ policies: items.map(ref) }, nextMarker);
    },

    /** DeletePolicy: not while attached to a target, nor while it has versions other than the default. */
    deletePolicy(name: string) {
      const p = policyOf(name);
      const targets = targetsOf(name);
      if (targets.length > 0) throw new BrokerError('DeleteConflictException', `Policy ${name} is attached to ${targets.length} target(s) (${targets.slice(0, 3).join(', ')}${targets.length > 3 ? ', ...' : ''}); detach it first (DetachPolicy)`);
      if (p.versions.length > 1) throw new BrokerError('DeleteConflictException', `Policy ${name} has non-default versions; delete them first (DeletePolicyVersion)`);
      const next = new Map(policies);
      next.delete(name);
      commit({ policies: next }, [name, undefined]);
      return {};
    },

    createPolicyVersion(name: string, req: { policyDocument?: unknown; setAsDefault?: boolean }) {
      const p = policyOf(name);
      const policy = compileDocument(req.policyDocument);
      if (p.versions.length >= POLICY_LIMITS.versions) {
        throw new BrokerError('VersionsLimitExceededException', `Policy ${name} already has ${POLICY_LIMITS.versions} versions; delete one first (DeletePolicyVersion)`);
      }
      const t = now();
      const versionId = String(p.nextVersionId);
      const isDefault = req.setAsDefault === true;
      const record: PolicyRecord = {
        ...p, versions: [...p.versions, { versionId, document: policy.document, createDate: t }], nextVersionId: p.nextVersionId + 1, lastModifiedDate: t,
        ...(isDefault ? { defaultVersionId: versionId, generationId: newGenerationId() } : {}),
      };
      commit({ policies: withPolicy(record) }, isDefault ? [name, policy] : undefined);
      return { policyArn: policyArn(name), policyDocument: policy.document, policyVersionId: versionId, isDefaultVersion: isDefault };
    },

    getPolicyVersion(name: string, versionId: string) {
      const p = policyOf(name);
      const v = versionOf(p, versionId);
      return {
        policyArn: policyArn(name), policyName: name, policyDocument: v.document, policyVersionId: v.versionId, isDefaultVersion: v.versionId === p.defaultVersionId,
        creationDate: seconds(v.createDate), lastModifiedDate: seconds(v.createDate), generationId: p.generationId,
      };
    },

    listPolicyVersions(name: string) {
      const p = policyOf(name);
      return { policyVersions: [...p.versions].reverse().map((v) => ({ versionId: v.versionId, isDefaultVersion: v.versionId === p.defaultVersionId, createDate: seconds(v.createDate) })) };
    },

    setDefaultPolicyVersion(name: string, versionId: string) {
      const p = policyOf(name);
      const v = versionOf(p, versionId);
      if (v.versionId === p.defaultVersionId) return {};
      const policy = compilePolicy(v.document);
      commit({ policies: withPolicy({ ...p, defaultVersionId: v.versionId, lastModifiedDate: now(), generationId: newGenerationId() }) }, [name, policy]);
      return {};
    },

    /** DeletePolicyVersion: any version but the default (DeletePolicy removes that one). */
    deletePolicyVersion(name: string, versionId: string) {
      const p = policyOf(name);
      const v = versionOf(p, versionId);
      if (v.versionId === p.defaultVersionId) throw new BrokerError('DeleteConflictException', `Version ${versionId} is the default version of policy ${name}; make another version the default (SetDefaultPolicyVersion) or delete the policy (DeletePolicy)`);
      commit({ policies: withPolicy({ ...p, versions: p.versions.filter((x) => x !== v), lastModifiedDate: now() }) });
      return {};
    },

    /** AttachPolicy: attaching twice is a no-op; at most 10 policies per target. */
    attachPolicy(name: string, target: unknown) {
      policyOf(name);
      const t = checkTarget(target, true);
      const list = attachments.get(t) ?? [];
      if (list.includes(name)) return {};
      if (list.length >= POLICY_LIMITS.policiesPerTarget) throw new BrokerError('LimitExceededException', `Target ${t} already has ${POLICY_LIMITS.policiesPerTarget} policies attached`);
      commit({ attachments: new Map(attachments).set(t, [...list, name]) });
      return {};
    },

    /** DetachPolicy: detaching what is not attached succeeds. */
    detachPolicy(name: string, target: unknown) {
      policyOf(name);
      const t = checkTarget(target, false);
      const list = attachments.get(t) ?? [];
      if (!list.includes(name)) return {};
      const next = new Map(attachments);
      const rest = list.filter((n) => n !== name);
      if (rest.length === 0) next.delete(t);
      else next.set(t, rest);
      commit({ attachments: next });
      return {};
    },

    /** ListAttachedPolicies: by name; `recursive` adds the policies of a thing group's ancestors. */
    listAttachedPolicies(target: string, req: { recursive?: boolean; marker?: string; pageSize?: number } = {}) {
      const t = checkTarget(target, true);
      const names = new Set(attachments.get(t) ?? []);
      if (req.recursive === true && t.includes(':thinggroup/')) {
        for (const ancestor of options.groupAncestors?.(t) ?? []) for (const n of attachments.get(ancestor) ?? []) names.add(n);
      }
      const { items, nextMarker } = pageOf([...names].sort(), req, false);
      return withMarker({ policies: items.map(ref) }, nextMarker);
    },

    listTargetsForPolicy(name: string, req: { marker?: string; pageSize?: number } = {}) {
      policyOf(name);
      const { items, nextMarker } = pageOf(targetsOf(name), req, false);
      return withMarker({ targets: items }, nextMarker);
    },

    /** The policies attached to a target, for other services (e.g. DeleteCertificate's conflict check). */
    policiesOf(target: string): readonly string[] {
      return attachments.get(target) ?? [];
    },
    exists: (name: string) => policies.has(name),

    counts: () => ({ policies: policies.size, targets: attachments.size }),
  };
  return store satisfies PolicyEngine;
}

/**
 * Applies the configuration file's policies idempotently: a missing one is created; one whose
 * default version differs gets the declared document as a new default version, the oldest
 * non-default version being deleted first when there are already 5. A bad entry is ConfigInvalid
 * naming the file and the index.
 */
export function applyDeclaredPolicies(store: PolicyStore, declared: readonly DeclaredPolicy[], source: string): void {
  for (const [i, d] of declared.entries()) {
    try {
      const text = typeof d.policyDocument === 'string' ? d.policyDocument : JSON.stringify(d.policyDocument);
      if (!store.exists(d.policyName)) {
        store.createPolicy(d.policyName, { policyDocument: text });
        continue;
      }
      if (sameJson(store.getPolicy(d.policyName).policyDocument, text)) continue;
      const versions = store.listPolicyVersions(d.policyName).policyVersions;
      if (versions.length >= POLICY_LIMITS.versions) {
        const oldest = versions.filter((v) => !v.isDefaultVersion).sort((x, y) => Number(x.versionId) - Number(y.versionId))[0]!;
        store.deletePolicyVersion(d.policyName, oldest.versionId);
      }
      store.createPolicyVersion(d.policyName, { policyDocument: text, setAsDefault: true });
    } catch (err) {
      const reason = isCodedError(err) ? `${err.code}: ${err.message}` : String(err);
      throw new BrokerError('ConfigInvalid', `config ${source}: policies[${i}]: ${reason}`);
    }
  }
}

function replace<K, V>(target: Map<K, V>, source: Map<K, V>): void {
  target.clear();
  for (const [k, v] of source) target.set(k, v);
}

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}

function checkTags(tags: unknown): { Key: string; Value?: string }[] | undefined {
  if (tags === undefined) return undefined;
  if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'object' || t === null || typeof t.Key !== 'string' || (t.Value !== undefined && typeof t.Value !== 'string'))) {
    throw invalid('tags must be a list of {Key, Value}');
  }
  if (tags.length > 50) throw invalid('a policy has at most 50 tags');
  return tags.map((t: { Key: string; Value?: string }) => (t.Value === undefined ? { Key: t.Key } : { Key: t.Key, Value: t.Value }));
}

/** A page of names after `marker` (the last item of the previous page), in the list's order. */
function pageOf(sorted: readonly string[], req: { marker?: string; pageSize?: number }, descending: boolean): { items: string[]; nextMarker?: string } {
  const size = req.pageSize ?? POLICY_LIMITS.pageSize;
  if (!Number.isInteger(size) || size < 1 || size > POLICY_LIMITS.pageSize) throw invalid(`pageSize must be 1..${POLICY_LIMITS.pageSize}`);
  let start = 0;
  if (req.marker !== undefined && req.marker !== '') {
    const m = req.marker;
    const after = sorted.findIndex((n) => (descending ? n < m : n > m));
    start = after < 0 ? sorted.length : after;
  }
  const items = sorted.slice(start, start + size);
  return start + size < sorted.length ? { items, nextMarker: items[items.length - 1]! } : { items };
}

function withMarker<T extends object>(body: T, nextMarker: string | undefined): T & { nextMarker?: string } {
  return nextMarker === undefined ? body : { ...body, nextMarker };
}

function invalid(message: string): BrokerError {
  return new BrokerError('InvalidRequestException', message);
}

function readFile(path: string): FileShape {
  if (!existsSync(path)) return { version: 1, policies: [], attachments: {} };
  let parsed: FileShape;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as FileShape;
  } catch (err) {
    throw new BrokerError('PoliciesFileInvalid', `${path} is not JSON (${(err as Error).message})`);
  }
  const ok = parsed?.version === 1 && Array.isArray(parsed.policies) && typeof parsed.attachments === 'object' && parsed.attachments !== null &&
    parsed.policies.every((p) => typeof p?.policyName === 'string' && Array.isArray(p.versions) && p.versions.some((v) => v?.versionId === p.defaultVersionId && typeof v.document === 'string')) &&
    Object.values(parsed.attachments).every((l) => Array.isArray(l) && l.every((n) => typeof n === 'string'));
  if (!ok) throw new BrokerError('PoliciesFileInvalid', `${path} is not a policies file of version 1`);
  return parsed;
}

