// AWS IoT's topic limits, applied to MQTT as the data plane already applies them: a topic of at
// most 256 UTF-8 bytes and 7 slashes, not counting the Basic Ingest prefix `$aws/rules/<rule>/`.
// A device that publishes past them is disconnected without PUBACK, as AWS IoT does; a SUBSCRIBE
// whose filter is past them gets the failure return code 0x80 for that filter [MQTT-3.9.3-2].
// Checked once per PUBLISH before the rules run: a byte count and a slash count, no allocation.

export interface TopicLimits {
  /** UTF-8 bytes of a topic or topic filter (server.maxTopicBytes, AWS: 256) */
  maxBytes: number;
  /** '/' characters in it (server.maxTopicSlashes, AWS: 7) */
  maxSlashes: number;
}

export const AWS_TOPIC_LIMITS: TopicLimits = { maxBytes: 256, maxSlashes: 7 };

const BASIC_INGEST = /^\$aws\/rules\/[^/]+\//;

/** Why `topic` breaks the limits, or undefined when it keeps them. */
export function topicLimitProblem(topic: string, limits: TopicLimits): string | undefined {
  const counted = topic.startsWith('$aws/rules/') ? topic.replace(BASIC_INGEST, '') : topic;
  const bytes = Buffer.byteLength(counted, 'utf8');
  if (bytes > limits.maxBytes) return `topic of ${bytes} bytes is longer than the limit of ${limits.maxBytes}`;
  let slashes = 0;
  for (let i = counted.indexOf('/'); i !== -1; i = counted.indexOf('/', i + 1)) slashes++;
  if (slashes > limits.maxSlashes) return `topic has ${slashes} slashes, more than the limit of ${limits.maxSlashes}`;
  return undefined;
}
