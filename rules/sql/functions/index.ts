// Every SQL function by lower-case name (function names are case-insensitive).
import { contextFunctions } from './context.js';
import { dataFunctions } from './data.js';
import { deviceStateFunctions } from './device-state.js';
import { hashFunctions } from './hash.js';
import { mathFunctions } from './math.js';
import type { FunctionTable } from './registry.js';
import { stringFunctions } from './string.js';
import { timeFunctions } from './time.js';

export const FUNCTIONS: FunctionTable = {
  ...contextFunctions,
  ...mathFunctions,
  ...stringFunctions,
  ...dataFunctions,
  ...hashFunctions,
  ...timeFunctions,
  ...deviceStateFunctions,
};

export type { SqlFunction } from './registry.js';
