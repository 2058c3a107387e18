// Helpers the basic detectors share: parameter validation (refused when a detector is created,
// never per point) and the mapping of a raw z statistic to a score in [0, 1].

import { invalidRequest } from '../../errors.js';
import type { DetectorParams } from '../detector.js';

export interface NumberParamSpec {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  /** true: min itself is refused (e.g. alpha > 0) */
  readonly exclusiveMin?: boolean;
  readonly integer?: boolean;
}

/**
 * Reads numeric parameters by spec; unknown names and out-of-range values throw
 * InvalidRequestException naming the detector and the parameter.
 */
export function readNumberParams<K extends string>(
  detector: string,
  params: DetectorParams | undefined,
  specs: Readonly<Record<K, NumberParamSpec>>,
): Record<K, number> {
  const given = params ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw invalidRequest(`detector ${detector}: parameters must be an object`);
  }
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(specs, name)) {
      throw invalidRequest(`detector ${detector}: unknown parameter ${name} (known: ${Object.keys(specs).join(', ')})`);
    }
  }
  const out = {} as Record<K, number>;
  for (const name of Object.keys(specs) as K[]) {
    const spec = specs[name];
    const raw = given[name];
    // CLI flags arrive as strings; definitions as JSON numbers. Both are accepted, nothing else.
    const value = raw === undefined ? spec.default : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    const tooLow = spec.exclusiveMin ? (value as number) <= spec.min : (value as number) < spec.min;
    if (typeof value !== 'number' || !Number.isFinite(value) || tooLow || value > spec.max ||
        (spec.integer === true && !Number.isInteger(value))) {
      const range = `${spec.exclusiveMin ? '(' : '['}${spec.min}, ${spec.max}]`;
      throw invalidRequest(
        `detector ${detector}: parameter ${name} must be ${spec.integer ? 'an integer' : 'a number'} in ${range}, got ${JSON.stringify(raw)}`,
      );
    }
    out[name] = value;
  }
  return out;
}

/**
 * Score of a z statistic: a logistic of ln|z|, i.e. 1 / (1 + (z0/|z|)^steepness). It is 0.5 at
 * |z| = z0 (so DEFAULT_ANOMALY_THRESHOLD means "z0 deviations away"), near 0 for ordinary points,
 * and unlike 1 − tail probability it keeps distinct values for very large |z| instead of
 * rounding them all to 1, so a threshold can still tell a big spike from a huge one.
 */
export function zToScore(z: number, z0: number, steepness: number): number {
  const a = Math.abs(z);
  if (Number.isNaN(a) || a === 0) return 0;
  if (a === Infinity) return 1;
  return 1 / (1 + Math.pow(z0 / a, steepness));
}

/**
 * Complementary error function, |relative error| < 1.2e-7 (the Chebyshev fit from Numerical
 * Recipes, 2nd ed. §6.2), accurate far into the tail, which is what tail probabilities need.
 */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/** 1 − the two-sided tail probability of a standard normal at z: P(|Z| < |z|). */
export function normalCoverage(z: number): number {
  if (Number.isNaN(z)) return 0;
  return 1 - erfc(Math.abs(z) / Math.SQRT2);
}

/** A value that cannot move a statistic: the contract says such points score 0 and change nothing. */
export function isUsable(value: number): boolean {
  return Number.isFinite(value);
}
