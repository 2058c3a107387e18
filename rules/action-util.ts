// Small helpers shared by the action compilers.
import { invalidRequest } from './errors.js';

export function requireObject(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidRequest(`${field} must be an object`);
  return v as Record<string, unknown>;
}

/** A sink that throws synchronously is a failure like a rejected promise. */
export function invoke(call: () => Promise<void>): Promise<void> {
  try {
    return Promise.resolve(call());
  } catch (e) {
    return Promise.reject(e);
  }
}
