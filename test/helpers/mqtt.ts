// An MQTT client that records every message it receives (JSON bodies parsed, empty ones null),
// and a wait for the next message on a topic.
import mqtt, { type MqttClient } from 'mqtt';
import type { RunningServer } from '../../broker/index.js';
import { eventually } from './server.js';

export interface Inbox {
  client: MqttClient;
  messages: { topic: string; body: any }[];
}

export async function connect(server: RunningServer, clientId: string, filters: string[] = []): Promise<Inbox> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${server.mqttPort}`, { clientId, protocolVersion: 4, reconnectPeriod: 0 });
  const messages: Inbox['messages'] = [];
  client.on('message', (topic, payload) => messages.push({ topic, body: payload.length ? JSON.parse(payload.toString()) : null }));
  if (filters.length) await client.subscribeAsync(filters, { qos: 1 });
  return { client, messages };
}

/** The body of the first message on `topic` among those received after index `after`. */
export function next(inbox: Inbox, topic: string, after = 0): Promise<any> {
  return eventually(async () => inbox.messages.slice(after).find((m) => m.topic === topic)?.body, 5000, `a message on ${topic}`);
}
