// Syntax tree produced by parse.ts and consumed once by compile.ts (never at message time).
import type { Value } from './values.js';

export type Node =
  | { k: 'lit'; v: Value; pos: number; decimalText?: boolean }
  | { k: 'attr'; name: string; pos: number }
  | { k: 'var'; name: string; pos: number }
  | { k: 'star'; pos: number }
  | { k: 'member'; obj: Node; name: string; pos: number }
  | { k: 'unary'; op: '-' | 'NOT'; e: Node; pos: number }
  | { k: 'bin'; op: BinOp; l: Node; r: Node; pos: number }
  | { k: 'call'; name: string; args: Node[]; pos: number }
  | { k: 'cast'; e: Node; type: string; pos: number; typePos: number }
  | { k: 'case'; subject: Node; whens: Array<[Node, Node]>; otherwise?: Node; pos: number }
  | { k: 'array'; items: Node[]; pos: number }
  | { k: 'object'; entries: Array<[string, Node]>; pos: number }
  | { k: 'select'; stmt: SelectStmt; pos: number };

export type BinOp = 'OR' | 'AND' | '=' | '<>' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | '/' | '%';

export interface SelectItem {
  expr: Node;
  alias?: string;
}

export interface SelectStmt {
  pos: number;
  sets: Array<{ name: string; expr: Node; pos: number }>;
  value: boolean;
  items: SelectItem[];
  /** top level: a topic filter; nested query: an expression naming a value of the message */
  from?: { kind: 'topic'; filter: string; pos: number } | { kind: 'expr'; expr: Node; pos: number };
  where?: Node;
}
