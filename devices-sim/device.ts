// One simulated device: a real MQTT 3.1.1 client that publishes the environmental profile's
// readings when the fleet scheduler tells it to. The only file of the simulator importing `mqtt`.

import { connect, type MqttClient } from 'mqtt';
import type { TelemetryPayload } from '../broker/contract.js';
import type { DeviceAnomalies } from './anomaly-injector.js';
import type { EnvironmentProfile } from './profiles/environment.js';
import { telemetryTopic } from './topics.js';

/** Counters shared by all devices of a fleet (one fixed-shape object, mutated in place). */
export interface FleetCounters {
  sent: number;
  acknowledged: number;
  errors: number;
  skipped: number;
  reconnects: number;
  connected: number;
  /** QoS 1 publishes awaiting their PUBACK, over the whole fleet */
  inflight: number;
}

export interface DeviceOptions {
  url: string;
  deviceId: string;
  qos: 0 | 1;
  username?: string;
  password?: string;
  /** mqtts://: the CA that signed the broker's certificate, and this device's own certificate and key */
  tls?: { ca?: string; cert?: string; key?: string };
  reconnectPeriodMs: number;
  connectTimeoutMs: number;
  /** QoS 1 publishes awaiting PUBACK beyond which the device skips a publish (bounds memory) */
  maxInflight: number;
}

export interface DeviceHooks {
  onLatency(latencyMs: number): void;
  /** the first successful connection (the scheduler starts this device's clock here) */
  onFirstConnect(device: SimDevice, atMs: number): void;
}

export class SimDevice {
  readonly deviceId: string;
  readonly topic: string;
  /** scheduler state: performance.now() of the first connection, NaN until then */
  origin = Number.NaN;
  /** scheduler state: publishes accounted for (sent + skipped) */
  attempted = 0;
  private seq = 0;
  private inflight = 0;
  private everConnected = false;
  private client: MqttClient | null = null;

  constructor(
    private readonly options: DeviceOptions,
    private readonly profile: EnvironmentProfile,
    private readonly counters: FleetCounters,
    private readonly hooks: DeviceHooks,
    /** this device's injected anomalies, when it was chosen for them */
    private readonly anomalies?: DeviceAnomalies,
  ) {
    this.deviceId = options.deviceId;
    this.topic = telemetryTopic(options.deviceId);
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get pendingAcks(): number {
    return this.inflight;
  }

  start(): void {
    const { url, deviceId, username, password, tls, reconnectPeriodMs, connectTimeoutMs } = this.options;
    const client = connect(url, {
      clientId: deviceId,
      protocolVersion: 4, // MQTT 3.1.1, what the broker speaks
      clean: true,
      keepalive: 30,
      reconnectPeriod: reconnectPeriodMs,
      connectTimeout: connectTimeoutMs,
      username,
      password,
      // the broker's certificate must verify against `ca` (never rejectUnauthorized: false)
      ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: true } : {}),
      // Never let mqtt.js buffer publishes while offline: the scheduler skips and counts them.
      queueQoSZero: false,
    });
    this.client = client;
    client.on('connect', () => {
      if (this.everConnected) {
        this.counters.reconnects++;
        return;
      }
      this.everConnected = true;
      this.counters.connected++;
      this.hooks.onFirstConnect(this, performance.now());
    });
    client.on('error', () => {
      this.counters.errors++;
    });
  }

  /** Publishes the next reading now. Returns false when it cannot (counted as a skip) or when a
   * dropout anomaly withholds it (counted by the injector). */
  publishNext(): boolean {
    const client = this.client;
    if (!client || !client.connected || this.inflight >= this.options.maxInflight) {
      this.counters.skipped++;
      return false;
    }
    const now = Date.now();
    const produced = this.profile.next(now);
    const reading = this.anomalies ? this.anomalies.apply(produced, now, performance.now() - this.origin) : produced;
    if (reading === null) return false;
    const payload: TelemetryPayload = { deviceId: this.deviceId, ts: now, seq: ++this.seq, ...reading };
    const qos = this.options.qos;
    const startedAt = performance.now();
    if (qos === 1) {
      this.inflight++;
      this.counters.inflight++;
    }
    client.publish(this.topic, JSON.stringify(payload), { qos }, (error) => {
      if (qos === 1) {
        this.inflight--;
        this.counters.inflight--;
      }
      if (error) {
        this.counters.errors++;
        return;
      }
      if (qos === 1) {
        this.counters.acknowledged++;
        this.hooks.onLatency(performance.now() - startedAt);
      }
    });
    this.counters.sent++;
    return true;
  }

  /** Closes the connection without waiting for unacknowledged publishes (the fleet drains first). */
  stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (!client) return Promise.resolve();
    return new Promise((resolve) => client.end(true, () => resolve()));
  }
}
