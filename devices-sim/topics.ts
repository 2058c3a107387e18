// The MQTT topics a simulated device uses, in one place: the device publishes on them and the
// provisioner's fleet policy allows exactly them, so the two cannot drift apart.

/** The topic every simulated device publishes its telemetry on. */
export function telemetryTopic(deviceId: string): string {
  return `devices/${deviceId}/telemetry`;
}

/** Where a device that obeys its classic shadow publishes its reported state. */
export function shadowUpdateTopic(deviceId: string): string {
  return `$aws/things/${deviceId}/shadow/update`;
}

/** The one topic such a device subscribes to: the broker's delta (desired differs from reported). */
export function shadowDeltaTopic(deviceId: string): string {
  return `$aws/things/${deviceId}/shadow/update/delta`;
}
