// The simulator's unit tests check the coded error a call throws; this catches it.
import type { SimError } from '../../../devices-sim/errors.js';

export function errorOf(run: () => unknown): SimError {
  try {
    run();
  } catch (error) {
    return error as SimError;
  }
  throw new Error('expected a SimError');
}
