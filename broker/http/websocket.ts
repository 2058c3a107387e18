// The only file that imports `ws`. Two endpoints share the HTTP port through the upgrade event:
// `/mqtt` (MQTT over WebSocket, subprotocol "mqtt") and `/api/live` (the dashboard feed).
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';

export type { WebSocket };

export interface UpgradeRoutes {
  mqtt(stream: Duplex, request: IncomingMessage): void;
  live(socket: WebSocket, request: IncomingMessage): void;
}

/** Attaches the upgrade routes to the HTTP server; returns a function that closes every socket. */
export function attachWebSockets(server: Server, routes: UpgradeRoutes): () => void {
  const mqttWss = new WebSocketServer({
    noServer: true,
    // MQTT over WebSocket names its subprotocol "mqtt" (MQTT 3.1.1 §6); accept clients that omit it.
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
  });
  const liveWss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '').split('?')[0];
    if (path === '/mqtt') {
      mqttWss.handleUpgrade(request, socket, head, (ws) => routes.mqtt(createWebSocketStream(ws), request));
    } else if (path === '/api/live') {
      liveWss.handleUpgrade(request, socket, head, (ws) => routes.live(ws, request));
    } else {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    }
  });

  return () => {
    for (const wss of [mqttWss, liveWss]) {
      for (const client of wss.clients) client.terminate();
      wss.close();
    }
  };
}
