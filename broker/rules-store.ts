// Topic rules changed through the API, kept in `<dataDir>/rules.json` so they survive a restart.
// The rules engine stays the one place that runs rules; this store sits in front of it for the
// API: every change is compiled by the engine first (an invalid rule never replaces a working
// one), then the file is rewritten (temp file + rename, so a crash leaves the old or the new
// file, never half of one). Only rules created or changed through the API are stored: rules of
// the configuration file are re-applied from it at every start (config as code), so removing a
// rule from the configuration removes it, unless the API changed it since.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RuleInfo, RulesEngine, TopicRulePayload } from '../rules/index.js';
import { BrokerError, isCodedError } from './errors.js';
import { writeFileAtomic } from './atomic-file.js';

export const RULES_FILE = 'rules.json';
const FILE_VERSION = 1;

export interface StoredRule {
  ruleName: string;
  topicRulePayload: TopicRulePayload;
  /** epoch milliseconds of the rule's creation (kept across replace, enable, disable, restart) */
  createdAt: number;
}

/** A rule as the API shows it. */
export interface RuleView {
  ruleName: string;
  topicRulePayload: TopicRulePayload;
  createdAt: number;
  /** the FROM filter ('' when the statement has none) */
  topicFilter: string;
}

export interface RuleStore {
  /** CreateTopicRule: ResourceAlreadyExistsException when the name is taken. */
  create(ruleName: string, payload: TopicRulePayload): RuleView;
  /** ReplaceTopicRule: ResourceNotFoundException for an unknown name. */
  replace(ruleName: string, payload: TopicRulePayload): RuleView;
  get(ruleName: string): RuleView;
  /** every rule the engine runs (API and configuration), ordered by name */
  list(): RuleView[];
  delete(ruleName: string): void;
  setDisabled(ruleName: string, disabled: boolean): RuleView;
  /** the file the store writes */
  readonly path: string;
}

/** Reads the rules file ([] when there is none). A file that is not the expected JSON is
 * reported as RulesFileInvalid, naming the file. */
export function readRulesFile(path: string): StoredRule[] {
  if (!existsSync(path)) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new BrokerError('RulesFileInvalid', `${path}: not readable JSON (${(err as Error).message})`);
  }
  const rules = (doc as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(rules)) throw new BrokerError('RulesFileInvalid', `${path}: expected {"version": ${FILE_VERSION}, "rules": [...]}`);
  return rules.map((r: unknown, i) => {
    const rule = r as Partial<StoredRule> | null;
    if (typeof rule?.ruleName !== 'string' || typeof rule.topicRulePayload !== 'object' || rule.topicRulePayload === null || typeof rule.createdAt !== 'number') {
      throw new BrokerError('RulesFileInvalid', `${path}: rules[${i}] needs ruleName, topicRulePayload and createdAt`);
    }
    return { ruleName: rule.ruleName, topicRulePayload: rule.topicRulePayload, createdAt: rule.createdAt };
  });
}

/** Writes the whole file atomically: a temporary file beside it, then a rename over it. */
export function writeRulesFile(path: string, rules: readonly StoredRule[]): void {
  const sorted = [...rules].sort((a, b) => compareNames(a.ruleName, b.ruleName));
  writeFileAtomic(path, JSON.stringify({ version: FILE_VERSION, rules: sorted }, null, 2) + '\n');
}

/**
 * Loads the persisted rules into the engine and returns the store the API uses. Call it before
 * the configuration's rules are applied, so those win on a shared name. A persisted rule that no
 * longer compiles refuses start-up (RulesFileInvalid names the file and the rule): skipping it
 * would drop it from the file at the next API change, losing the operator's rule silently.
 * `ruleArn` names a rule in ResourceAlreadyExistsException (its `resourceArn` member).
 */
export function openRuleStore(dataDir: string, engine: RulesEngine, ruleArn: (ruleName: string) => string): RuleStore {
  const path = join(dataDir, RULES_FILE);
  const stored = new Map<string, StoredRule>();
  for (const rule of readRulesFile(path)) {
    try {
      engine.putRule(rule.ruleName, rule.topicRulePayload);
    } catch (err) {
      const reason = isCodedError(err) ? `${err.code}: ${err.message}` : String(err);
      throw new BrokerError('RulesFileInvalid', `${path}: rule '${rule.ruleName}': ${reason}`);
    }
    stored.set(rule.ruleName, rule);
  }

  function existing(ruleName: string): RuleInfo {
    const info = engine.getRule(ruleName);
    if (!info) throw new BrokerError('ResourceNotFoundException', `Rule ${ruleName} does not exist`);
    return info;
  }

  function view(info: RuleInfo): RuleView {
    return {
      ruleName: info.ruleName,
      topicRulePayload: info.topicRulePayload,
      createdAt: stored.get(info.ruleName)?.createdAt ?? info.createdAt,
      topicFilter: info.topicFilter,
    };
  }

  /** Runs a change on the engine, then persists it; if the file cannot be written the engine is
   * put back as it was, so memory and disk never disagree. */
  function change(ruleName: string, apply: () => RuleInfo | undefined): RuleInfo | undefined {
    const before = engine.getRule(ruleName);
    const beforeStored = stored.get(ruleName);
    const after = apply();
    if (after) stored.set(ruleName, { ruleName, topicRulePayload: after.topicRulePayload, createdAt: beforeStored?.createdAt ?? before?.createdAt ?? after.createdAt });
    else stored.delete(ruleName);
    try {
      writeRulesFile(path, [...stored.values()]);
    } catch (err) {
      if (before) engine.putRule(ruleName, before.topicRulePayload);
      else engine.deleteRule(ruleName);
      if (beforeStored) stored.set(ruleName, beforeStored);
      else stored.delete(ruleName);
      throw err;
    }
    return after;
  }

  return {
    path,
    create(ruleName, payload) {
      if (engine.getRule(ruleName)) {
        throw new BrokerError('ResourceAlreadyExistsException', `Rule ${ruleName} already exists`, { resourceId: ruleName, resourceArn: ruleArn(ruleName) });
      }
      return view(change(ruleName, () => engine.putRule(ruleName, payload))!);
    },
    replace(ruleName, payload) {
      existing(ruleName);
      return view(change(ruleName, () => engine.putRule(ruleName, payload))!);
    },
    get(ruleName) {
      return view(existing(ruleName));
    },
    list() {
      return engine.listRules().sort((a, b) => compareNames(a.ruleName, b.ruleName)).map(view);
    },
    delete(ruleName) {
      existing(ruleName);
      change(ruleName, () => {
        engine.deleteRule(ruleName);
        return undefined;
      });
    },
    setDisabled(ruleName, disabled) {
      const info = existing(ruleName);
      const payload = { ...info.topicRulePayload, ruleDisabled: disabled };
      return view(change(ruleName, () => engine.putRule(ruleName, payload))!);
    },
  };
}

/** Plain code-unit order: stable, locale-independent, and what the list's nextToken relies on. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
