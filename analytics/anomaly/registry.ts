// Every detector by name: definitions, the pipeline activity and the CLIs look them up here.
// One entry per line; a new detector is one import and one line.

import { invalidRequest } from '../errors.js';
import type { DetectorFactory } from './detector.js';
import { ewmaDetector } from './detectors/ewma.js';
import { gaussianDetector } from './detectors/gaussian.js';
import { madDetector } from './detectors/mad.js';
import { contextualDetector } from './detectors/contextual.js';
import { likelihoodDetector } from './detectors/likelihood.js';

export const DETECTORS: Readonly<Record<string, DetectorFactory>> = Object.freeze({
  [gaussianDetector.name]: gaussianDetector,
  [ewmaDetector.name]: ewmaDetector,
  [madDetector.name]: madDetector,
  [contextualDetector.name]: contextualDetector,
  [likelihoodDetector.name]: likelihoodDetector,
});

/** The detector used when a definition names none: the best NAB standard score in the README table. */
export const DEFAULT_DETECTOR_NAME = 'likelihood';

export function detectorFactory(name: string): DetectorFactory {
  const factory = Object.hasOwn(DETECTORS, name) ? DETECTORS[name] : undefined;
  if (factory === undefined) {
    throw invalidRequest(`unknown detector ${JSON.stringify(name)} (known: ${Object.keys(DETECTORS).join(', ')})`);
  }
  return factory;
}
