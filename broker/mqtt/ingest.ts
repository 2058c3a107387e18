// The ingest seam: every PUBLISH a device sends passes through here before aedes acknowledges it.
//
// Why authorizePublish and not aedes' `published` hook: aedes 1.x writes the QoS 1 PUBACK first
// and only then runs broker.publish → published (lib/handlers/publish.js), so work done in
// `published` happens after the device was told its message is safe. Here we run the rules and
// wait until every channel action has archived the message; only then do we let aedes continue to
// PUBACK and fan out. If an action cannot accept the message we fail the publish, aedes closes the
// connection without PUBACK, and the client redelivers after reconnecting [MQTT-4.4.0-1].
//
// Backpressure comes for free: aedes reads the next chunk from a client's socket only when every
// packet of the current chunk has finished, so a slow archive slows the publisher, not memory.
//
// A full disk: the channel refuses at once (analytics/disk-full.ts) and the refusal is logged and
// counted here as DiskFull rather than IngestFailed; the client is disconnected the same way and
// redelivers once the channel takes writes again, which needs no restart.
import type { RuleMessage } from '../../rules/index.js';
import { BrokerError } from '../errors.js';
import type { Logger } from '../log.js';
import { LIFECYCLE_PREFIX } from './lifecycle.js';
import { noteDelivery } from './redelivery.js';
import { isAlertTopic } from '../alert-topic.js';
import { isDiskFullMessage } from '../disk-space.js';

export interface IngestCounters {
  received: number;
  receivedBytes: number;
  unmatched: number;
  oversized: number;
  reserved: number;
  failed: number;
  /** of `failed`: refused because the disk under a channel archive was full */
  diskFull: number;
}

export interface RuleHandler {
  handle(msg: RuleMessage): Promise<void> | undefined;
}

/** The Device Shadow service as the seam sees it (broker/shadows): a device's publish on a
 * `$aws/things/...` topic is a shadow request ('handled', answered on the response topics), a
 * response topic devices may only subscribe to ('refused'), or not a shadow topic (undefined). */
export interface ShadowRequests {
  offer(topic: string, payload: Buffer): 'handled' | 'refused' | undefined;
}

export interface InboundPublish {
  topic: string;
  payload: Buffer | string;
  qos?: number;
  /** the packet identifier (QoS 1) */
  messageId?: number;
  /** DUP: the sender may have sent this PUBLISH before [MQTT-3.3.1-1] */
  dup?: boolean;
}

export interface Ingest {
  readonly counters: IngestCounters;
  /** A device's publish: resolves (or returns undefined when nothing waits) before the PUBACK. */
  fromDevice(clientId: string, packet: InboundPublish): Promise<void> | undefined;
  /** A publish the broker itself made (rule republish, data-plane publish): rules run after. */
  fromBroker(packet: InboundPublish): Promise<void> | undefined;
}

export function createIngest(rules: RuleHandler, maxPayloadBytes: number, log: Logger, shadows?: ShadowRequests): Ingest {
  const counters: IngestCounters = { received: 0, receivedBytes: 0, unmatched: 0, oversized: 0, reserved: 0, failed: 0, diskFull: 0 };

  function run(msg: RuleMessage): Promise<void> | undefined {
    const pending = rules.handle(msg);
    if (pending === undefined) {
      counters.unmatched++;
      return undefined;
    }
    return pending.catch((err: unknown) => {
      counters.failed++;
      const reason = (err as Error)?.message ?? String(err);
      if (isDiskFullMessage(reason)) {
        counters.diskFull++;
        log.warn({ code: 'DiskFull', topic: msg.topic, clientId: msg.clientId, err: reason }, 'message not acknowledged: the disk is full');
        throw new BrokerError('DiskFull', `message on ${msg.topic} could not be accepted: ${reason}`);
      }
      log.warn({ code: 'IngestFailed', topic: msg.topic, clientId: msg.clientId, err: String(err) }, 'message not acknowledged');
      throw new BrokerError('IngestFailed', `message on ${msg.topic} could not be accepted: ${reason}`);
    });
  }

  return {
    counters,
    fromDevice(clientId, packet) {
      const payload = toBuffer(packet.payload);
      counters.received++;
      counters.receivedBytes += payload.length;
      if (packet.topic.startsWith('$SYS')) {
        counters.reserved++;
        return Promise.reject(new BrokerError('ReservedTopic', `client ${clientId} may not publish to ${packet.topic}: $SYS topics are reserved`));
      }
      if (packet.topic.startsWith(LIFECYCLE_PREFIX)) {
        counters.reserved++;
        return Promise.reject(new BrokerError('ReservedTopic', `client ${clientId} may not publish to ${packet.topic}: only the broker publishes lifecycle events`));
      }
      if (isAlertTopic(packet.topic)) {
        counters.reserved++;
        return Promise.reject(new BrokerError('ReservedTopic', `client ${clientId} may not publish to ${packet.topic}: only the broker publishes alerts`));
      }
      if (payload.length > maxPayloadBytes) {
        counters.oversized++;
        log.warn({ code: 'PayloadTooLarge', clientId, topic: packet.topic, bytes: payload.length, limit: maxPayloadBytes }, 'publish refused, connection closed');
        return Promise.reject(new BrokerError('PayloadTooLarge', `payload of ${payload.length} bytes on ${packet.topic} exceeds the ${maxPayloadBytes}-byte limit`));
      }
      // A shadow request is applied (and persisted) here, before the PUBACK; like on AWS it then
      // goes through the rules as any publish does. A redelivered request is applied again.
      if (shadows && packet.topic.startsWith('$aws/things/') && shadows.offer(packet.topic, payload) === 'refused') {
        counters.reserved++;
        return Promise.reject(new BrokerError('ReservedTopic', `client ${clientId} may not publish to ${packet.topic}: only the shadow service publishes on shadow response topics`));
      }
      const msg: RuleMessage = { topic: packet.topic, payload, clientId, receivedAt: Date.now(), protocol: 'mqtt' };
      // a resend of an archived QoS 1 publish is acknowledged, not archived again (redelivery.ts)
      if (packet.qos === 1 && packet.messageId !== undefined) noteDelivery(msg, clientId, packet.messageId, packet.dup === true);
      return run(msg);
    },
    fromBroker(packet) {
      if (packet.topic.startsWith('$SYS')) return undefined; // aedes heartbeats
      return run({ topic: packet.topic, payload: toBuffer(packet.payload), receivedAt: Date.now(), protocol: 'mqtt' });
    },
  };
}

function toBuffer(payload: Buffer | string): Buffer {
  return typeof payload === 'string' ? Buffer.from(payload) : payload;
}
