// Syntax tree of an expression. Only the compiler reads it; messages never see it.
import type { PathSegment } from '../paths.js';

export type Node =
  | { type: 'literal'; value: unknown }
  | { type: 'path'; segments: PathSegment[]; text: string }
  | { type: 'unary'; op: '-' | '+' | 'NOT'; arg: Node }
  | { type: 'binary'; op: string; left: Node; right: Node }
  | { type: 'call'; name: string; args: Node[] };
