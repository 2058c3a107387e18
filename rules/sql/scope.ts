// Per-message evaluation state shared by every rule that matches one message: the payload is
// JSON-parsed at most once, on first use, and only if some matching rule reads it.
import type { RuleLookups, RuleMessage, SqlVersion } from '../types.js';
import { parseJsonKeepingWholeDecimals, type Value } from './values.js';

export interface EngineEnv {
  now(): number;
  newUuid(): string;
  accountId: string;
  /** device state for get_thing_shadow() / get_registry_data(); rules using them are refused without it */
  lookups?: RuleLookups;
}

const NOT_PARSED = Symbol('not parsed');

export class MessageContext {
  private parsed: Value | typeof NOT_PARSED = NOT_PARSED;
  private parsedV1: Value | typeof NOT_PARSED = NOT_PARSED;
  private levelsCache: string[] | undefined;
  private nowCache: number | undefined;
  private traceIdCache: string | undefined;

  /** `topic` is what topic() sees: Basic Ingest topics arrive with their `$aws/rules/<name>/` prefix removed. */
  constructor(readonly msg: RuleMessage, readonly topic: string, readonly env: EngineEnv, levels?: string[]) {
    this.levelsCache = levels;
  }

  /** The payload as a SQL value: the parsed JSON document, or the raw bytes when it is not JSON. */
  doc(): Value {
    if (this.parsed === NOT_PARSED) {
      try {
        this.parsed = JSON.parse(this.msg.payload.toString('utf8')) as Value;
      } catch {
        this.parsed = this.msg.payload;
      }
    }
    return this.parsed;
  }

  /** The payload as SQL 2015-10-08 sees it: like doc(), but whole-number decimals written as
   * `10.0` stay Decimal. Shares doc()'s result when the payload has no such number. */
  docV1(): Value {
    if (this.parsedV1 === NOT_PARSED) {
      const base = this.doc();
      let v1: Value | undefined;
      if (!Buffer.isBuffer(base)) {
        try { v1 = parseJsonKeepingWholeDecimals(this.msg.payload.toString('utf8')); } catch { v1 = undefined; }
      }
      this.parsedV1 = v1 === undefined ? base : v1;
    }
    return this.parsedV1;
  }

  /** True once doc() ran; lets tests prove that an unmatched message is never parsed. */
  get payloadParsed(): boolean {
    return this.parsed !== NOT_PARSED;
  }

  /** The topic's levels; shared with the topic index when the engine already split it. */
  levels(): string[] {
    return (this.levelsCache ??= this.topic.split('/'));
  }

  /** One clock reading per message, so every timestamp() of a message agrees. */
  now(): number {
    return (this.nowCache ??= this.env.now());
  }

  /** One trace id per message (used by traceid() and the error action's cloudwatchTraceId). */
  traceId(): string {
    return (this.traceIdCache ??= this.env.newUuid());
  }
}

/** Marks the top-level scope: attributes resolve against the message payload. */
export const TOP = Symbol('top');

export interface Scope {
  m: MessageContext;
  /** the value attributes resolve against: TOP for the message, or an element in a nested SELECT */
  row: Value | typeof TOP;
  /** SET variables by slot; shared by nested queries and templates of the same rule run */
  vars: Value[];
  version: SqlVersion;
}

export function rowOf(s: Scope): Value {
  return s.row === TOP ? s.m.doc() : s.row;
}

export function rowOfV1(s: Scope): Value {
  return s.row === TOP ? s.m.docV1() : s.row;
}
