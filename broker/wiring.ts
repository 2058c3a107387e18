// The composition root's one job that nothing else may do: turn rule actions into channel writes
// and broker publishes. rules/ knows no channels; analytics/ knows no rules (ARCHITECTURE.md).
import type { RuleSinks } from '../rules/index.js';
import type { Analytics } from '../analytics/index.js';
import type { MqttServer } from './mqtt/server.js';
import type { HttpDelivery } from './actions/http.js';
import { deliveryKeys } from './mqtt/redelivery.js';

/** Where channel messages go: the local channel, or in cluster mode the channel's Redis stream. */
export type ChannelWrite = Analytics['ingest'];

export function createRuleSinks(analytics: Analytics, mqtt: () => MqttServer | undefined, http: HttpDelivery, write: ChannelWrite = (name, msgs) => analytics.ingest(name, msgs)): RuleSinks {
  return {
    channel(channelName, payloads, source, objects) {
      // a device's QoS 1 publish: keys that let the channel drop its resends (mqtt/redelivery.ts)
      const d = deliveryKeys(source, payloads.length);
      return write(
        channelName,
        payloads.map((payload, i) => ({
          payload, receivedAt: source.receivedAt, clientId: source.clientId, topic: source.topic,
          deliveryKey: d?.keys[i], redelivered: d?.redelivered, decoded: objects?.[i],
        })),
      );
    },
    republish(topic, payload, qos) {
      const server = mqtt();
      if (!server) return Promise.reject(new Error('the MQTT server is not running'));
      return server.publish(topic, payload, qos);
    },
    http(request) {
      return http.send(request);
    },
  };
}
