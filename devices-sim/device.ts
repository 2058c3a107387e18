// One simulated device: a real MQTT 3.1.1 client that publishes its profile's readings when the
// fleet scheduler tells it to and, for a profile that obeys its shadow (the plug), applies the
// deltas the broker sends and reports its state; an injected fault drops its socket abruptly or
// makes it vanish (fault-injector.ts). The only file of the simulator importing `mqtt`.

import { connect, Store, type IStore, type MqttClient } from 'mqtt';
import type { TelemetryPayload } from '../broker/contract.js';
import type { DeviceAnomalies } from './anomaly-injector.js';
import type { FaultStats, FaultTarget } from './fault-injector.js';
import { padPayload, payloadSizeFor } from './payload.js';
import type { DeviceProfile, Reading } from './profiles/profile.js';
import { shadowDeltaTopic, shadowUpdateTopic, telemetryTopic } from './topics.js';

/** What every profile's payload carries besides its readings (the environment's payload is
 * exactly a TelemetryPayload): the pipeline, latency measurement and detectors rely on these. */
export type SimPayload = Pick<TelemetryPayload, 'deviceId' | 'ts' | 'seq'> & Reading;

/** Shadow traffic of a device that obeys its shadow: a report sent (at connect or after a
 * delta), a delta applied, or a delta without anything the device understands. */
export type ShadowEvent = 'reported' | 'applied' | 'ignored';

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
  /** 1-based index in the whole fleet (the n of <prefix>-<n>) */
  index: number;
  qos: 0 | 1;
  username?: string;
  password?: string;
  /** mqtts://: the CA that signed the broker's certificate, and this device's own certificate and key */
  tls?: { ca?: string; cert?: string; key?: string };
  reconnectPeriodMs: number;
  connectTimeoutMs: number;
  /** QoS 1 publishes awaiting PUBACK beyond which the device skips a publish (bounds memory) */
  maxInflight: number;
  /** pad each telemetry payload to this many bytes (see payload.ts); undefined = no padding */
  payloadBytes?: number;
  /** with payloadBytes: sizes spread over payloadBytes..payloadBytesMax by sequence number */
  payloadBytesMax?: number;
}

export interface DeviceHooks {
  onLatency(latencyMs: number): void;
  /** the first successful connection (the scheduler starts this device's clock here) */
  onFirstConnect(device: SimDevice, atMs: number): void;
  /** shadow traffic (profiles with a shadow handler only) */
  onShadow?(event: ShadowEvent): void;
  /** fault counters, present when faults are injected: the device then tracks its QoS 1
   * publishes across dropped connections (redelivered or lost) */
  faults?: FaultStats;
}

/**
 * mqtt.js keeps every unacknowledged QoS 1 PUBLISH in its outgoing store and, after ANY
 * reconnect (clean session or not: this is client state), sends the store again with the same
 * packet identifiers; but it sends them with DUP=0. The copy stored is only ever read back to be
 * resent, so it is marked DUP=1 here [MQTT-3.3.1-1], which is what lets the broker recognise a
 * message it had already archived before the PUBACK was lost and not store it twice. The first
 * transmission is the original packet (mqtt.js stores a clone), which keeps DUP=0. Devices never
 * publish while offline, so nothing is first sent out of the store.
 */
class ResendAsDuplicateStore extends Store {
  override put(packet: Parameters<IStore['put']>[0], cb: Parameters<IStore['put']>[1]): this {
    if (packet.cmd === 'publish') packet.dup = true;
    return super.put(packet, cb);
  }
}

function noTrace(): void {}

export class SimDevice implements FaultTarget {
  readonly deviceId: string;
  readonly index: number;
  readonly topic: string;
  /** scheduler state: performance.now() of the first connection, NaN until then */
  origin = Number.NaN;
  /** scheduler state: publishes accounted for (sent + skipped) */
  attempted = 0;
  private seq = 0;
  private inflight = 0;
  private everConnected = false;
  private client: MqttClient | null = null;
  /** a fault dropped the socket and no 'connect' has followed yet: publishes are skipped (mqtt.js
   * still says connected until the socket's close event) */
  private dropped = false;
  /** a fault dropped the socket: the next 'connect' is a reconnect after a fault */
  private awaitingReconnect = false;
  /** vanished (abrupt-disconnect): stopped for good */
  private gone = false;
  /** with faults: seq of each QoS 1 publish awaiting its PUBACK -> whether a fault dropped its
   * connection meanwhile (bounded by maxInflight) */
  private readonly pending: Map<number, boolean> | null;

  constructor(
    private readonly options: DeviceOptions,
    private readonly profile: DeviceProfile,
    private readonly counters: FleetCounters,
    private readonly hooks: DeviceHooks,
    /** this device's injected anomalies, when it was chosen for them */
    private readonly anomalies?: DeviceAnomalies,
  ) {
    this.deviceId = options.deviceId;
    this.index = options.index;
    this.topic = telemetryTopic(options.deviceId);
    this.pending = hooks.faults ? new Map() : null;
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** vanished for good: the scheduler stops owing it publishes */
  get vanished(): boolean {
    return this.gone;
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
      outgoingStore: new ResendAsDuplicateStore(),
      // mqtt.js traces every packet through `debug` even when tracing is off: ~7 % of a busy
      // simulator's thread, which the broker on the same machine would rather have
      log: noTrace,
    });
    this.client = client;
    client.on('connect', () => {
      // mqtt.js emits 'connect' once it has resent its outgoing store
      this.dropped = false;
      // at every (re)connect: a clean session has lost the subscription, and the broker may hold
      // a desired state set while the device was away
      if (this.profile.shadow) this.syncShadow(client);
      if (this.everConnected) {
        this.counters.reconnects++;
        if (this.hooks.faults && this.awaitingReconnect) this.hooks.faults.reconnects++;
        this.awaitingReconnect = false;
        return;
      }
      this.everConnected = true;
      this.counters.connected++;
      this.hooks.onFirstConnect(this, performance.now());
    });
    client.on('error', () => {
      this.counters.errors++;
    });
    if (this.profile.shadow) client.on('message', (topic, payload) => this.onMessage(client, topic, payload));
  }

  /** Subscribes to the delta topic, then reports the current state: subscribing first means a
   * desired state that differs is not missed, since the broker answers the report with a delta. */
  private syncShadow(client: MqttClient): void {
    client.subscribe(shadowDeltaTopic(this.deviceId), { qos: 1 }, (error, granted) => {
      // a SUBACK return code 0x80 (e.g. the policy does not allow the topic) is a failure too
      if (error || granted?.some((g) => g.qos === 128)) {
        this.counters.errors++;
        return;
      }
      this.reportShadow(client);
    });
  }

  private reportShadow(client: MqttClient): void {
    const document = this.profile.shadow!.reportedDocument();
    client.publish(shadowUpdateTopic(this.deviceId), JSON.stringify(document), { qos: 1 }, (error) => {
      if (error) this.counters.errors++;
    });
    this.hooks.onShadow?.('reported');
  }

  private onMessage(client: MqttClient, topic: string, payload: Buffer): void {
    if (topic !== shadowDeltaTopic(this.deviceId)) return;
    let document: unknown;
    try {
      document = JSON.parse(payload.toString('utf8'));
    } catch {
      document = undefined; // not JSON: nothing to apply
    }
    const outcome = this.profile.shadow!.applyDelta(document);
    this.hooks.onShadow?.(outcome);
    if (outcome === 'applied' && client.connected) this.reportShadow(client);
  }

  /** the size message `seq` is padded to: fixed, or spread over a range */
  private targetBytes(seq: number, min: number): number {
    const max = this.options.payloadBytesMax;
    return max === undefined ? min : payloadSizeFor(seq, min, max);
  }

  /** Messages to send for one scheduled publish: more than one while a flood anomaly is open. */
  messagesPerPublish(): number {
    return this.anomalies ? this.anomalies.messagesPerPublish(performance.now() - this.origin) : 1;
  }

  /** Publishes the next reading now. Returns false when it cannot (counted as a skip) or when a
   * dropout anomaly withholds it (counted by the injector). */
  publishNext(): boolean {
    const client = this.client;
    if (!client || !client.connected || this.dropped || this.inflight >= this.options.maxInflight) {
      this.counters.skipped++;
      return false;
    }
    const now = Date.now();
    const produced = this.profile.next(now);
    const reading = this.anomalies ? this.anomalies.apply(produced, now, performance.now() - this.origin) : produced;
    if (reading === null) return false;
    const seq = ++this.seq;
    const payload: SimPayload = { deviceId: this.deviceId, ts: now, seq, ...reading };
    const json = JSON.stringify(payload);
    const body = this.options.payloadBytes === undefined ? json : padPayload(json, this.targetBytes(seq, this.options.payloadBytes));
    const qos = this.options.qos;
    const startedAt = performance.now();
    if (qos === 1) {
      this.inflight++;
      this.counters.inflight++;
      this.pending?.set(seq, false);
    }
    client.publish(this.topic, body, { qos }, (error) => {
      if (this.gone) return; // vanish() counted what was in flight as lost
      let crossedDrop = false;
      if (qos === 1) {
        this.inflight--;
        this.counters.inflight--;
        crossedDrop = this.pending?.get(seq) ?? false;
        this.pending?.delete(seq);
      }
      if (error) {
        this.counters.errors++;
        if (crossedDrop) this.hooks.faults!.lost++;
        return;
      }
      if (crossedDrop) this.hooks.faults!.redelivered++;
      if (qos === 1) {
        this.counters.acknowledged++;
        this.hooks.onLatency(performance.now() - startedAt);
      }
    });
    this.counters.sent++;
    return true;
  }

  /** A fault: the socket is destroyed without DISCONNECT (the broker sees a lost connection);
   * mqtt.js reconnects after its reconnect period and resends what awaits a PUBACK. */
  dropConnection(): void {
    const client = this.client;
    if (!client || !client.connected || this.dropped) return; // already down: nothing to drop
    this.markInflightDropped();
    this.dropped = true;
    this.awaitingReconnect = true;
    this.hooks.faults!.disconnects++;
    client.stream.destroy();
  }

  /** A fault: the socket is destroyed without DISCONNECT and the device never comes back; what
   * awaited a PUBACK is lost. */
  vanish(): void {
    const client = this.client;
    if (!client || this.gone) return;
    const faults = this.hooks.faults!;
    if (client.connected && !this.dropped) faults.disconnects++;
    this.markInflightDropped();
    this.gone = true;
    faults.vanished++;
    faults.lost += this.pending!.size;
    this.pending!.clear();
    this.counters.inflight -= this.inflight; // their callbacks will never come: do not drain them
    this.inflight = 0;
    this.client = null;
    client.stream.destroy();
    client.end(true); // no reconnect
  }

  /** Every QoS 1 publish awaiting its PUBACK now crossed a dropped connection. */
  private markInflightDropped(): void {
    const pending = this.pending!;
    for (const [seq, crossed] of pending) {
      if (crossed) continue;
      pending.set(seq, true);
      this.hooks.faults!.inflightAtDisconnect++;
    }
  }

  /** Closes the connection without waiting for unacknowledged publishes (the fleet drains first);
   * a publish still awaiting its PUBACK after crossing a dropped connection is lost. */
  stop(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (this.pending) {
      for (const crossed of this.pending.values()) if (crossed) this.hooks.faults!.lost++;
      this.pending.clear();
    }
    if (!client) return Promise.resolve();
    return new Promise((resolve) => client.end(true, () => resolve()));
  }
}
