// The MQTT topics a simulated device uses, in one place: the device publishes on them and the
// provisioner's fleet policy allows exactly them, so the two cannot drift apart.

/** The one topic a simulated device publishes on (it subscribes to nothing). */
export function telemetryTopic(deviceId: string): string {
  return `devices/${deviceId}/telemetry`;
}
