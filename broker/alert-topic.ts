// The MQTT topics alert events go out on. Only the broker publishes there: devices and the data
// plane are refused (ReservedTopic), so a subscriber or a rule can trust what it reads.
import type { Alert } from '../analytics/index.js';

export const ALERT_TOPIC_ROOT = 'iotcore/alerts';

/** `iotcore/alerts/<source>/<deviceId>`: characters that would split or wildcard a topic level
 * (`/`, `+`, `#`, NUL) become `_`, and an empty level `_`. */
export function alertTopic(alert: Pick<Alert, 'source' | 'deviceId'>): string {
  const level = (s: string): string => s.replace(/[/+#\u0000]/g, '_') || '_';
  return `${ALERT_TOPIC_ROOT}/${level(alert.source)}/${level(alert.deviceId)}`;
}

export function isAlertTopic(topic: string): boolean {
  return topic === ALERT_TOPIC_ROOT || topic.startsWith(`${ALERT_TOPIC_ROOT}/`);
}
