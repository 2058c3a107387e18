// Shape of a SQL function: arity, the first SQL version that has it, and its implementation
// over already-evaluated arguments. Families live in sibling files; index.ts merges them.
import type { Scope } from '../scope.js';
import type { Value } from '../values.js';

export interface SqlFunction {
  min: number;
  max: number;
  /** present only in 2016-03-23 and later */
  v2?: boolean;
  /** handles Undefined arguments itself; otherwise any Undefined argument gives Undefined */
  takesUndefined?: boolean;
  /** depends on the message, the clock or randomness: never folded at compile time */
  impure?: boolean;
  /** reads device state through the engine's injected lookups: refused when there are none */
  needsLookups?: boolean;
  call(args: Value[], s: Scope): Value;
}

export type FunctionTable = Record<string, SqlFunction>;

export const VARIADIC = 255;
