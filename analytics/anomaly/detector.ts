// The contract every anomaly detector keeps (issue 6). A detector watches one series (one device's
// one metric), reads each point once, in order, and answers at once with a score in [0, 1]
// without looking ahead; its memory and time per point are bounded by its parameters, never by
// the length of the stream. Detectors are plain synchronous objects so the pipeline activity, the
// detector resources, `npm run detect` and the NAB evaluation all run the same code.

export interface Detector {
  /** Scores one point (timestamp in epoch ms). NaN or ±Infinity values score 0 and change nothing. */
  update(value: number, timestamp: number): number;
}

/** Parameters as given in a definition (JSON); each factory validates its own. */
export type DetectorParams = Readonly<Record<string, unknown>>;

export interface DetectorFactory {
  /** the name definitions and the CLIs use, e.g. `ewma` */
  readonly name: string;
  /** one line for README and `--help` */
  readonly description: string;
  /**
   * The score at or above which a point counts as anomalous when a definition names no threshold:
   * the threshold the NAB standard-profile sweep found best for this detector (its scores are not
   * on a common scale: a likelihood fires near 0.99, a novelty score near 0.5).
   */
  readonly threshold: number;
  /**
   * A fresh detector for one series. Throws AnalyticsError('InvalidRequestException') naming the
   * parameter when `params` is invalid, so definitions are refused when created, never per point.
   */
  create(params?: DetectorParams): Detector;
}

/** A middle score for detectors without a calibrated threshold of their own (see DetectorFactory.threshold). */
export const DEFAULT_ANOMALY_THRESHOLD = 0.5;
