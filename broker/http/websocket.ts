// The only file that imports `ws`. Two endpoints share the HTTP port through the upgrade event:
// `/mqtt` (MQTT over WebSocket, subprotocol "mqtt"; devices authenticate in MQTT CONNECT) and
// `/api/live` (the dashboard feed), which needs an operator's session cookie: browsers cannot set
// headers on a WebSocket, but they do send cookies and Origin. A socket lives no longer than its
// session: when the session ends (sign-out, expiry, operator removed), its sockets are closed.
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { sessionTokenOf } from './session-cookie.js';
import { originMatchesHost } from './same-origin.js';
import type { OperatorGate } from './server.js';

export type { WebSocket };

export interface UpgradeRoutes {
  mqtt(stream: Duplex, request: IncomingMessage): void;
  live(socket: WebSocket, request: IncomingMessage): void;
}

export interface WebSockets {
  /** Closes the live sockets of a session that ended (close code 4401, `reason` says why). */
  endSession(sessionId: string, reason: string): void;
  /** Closes every socket. */
  close(): void;
}

/** Close code of a live socket whose session ended: 4000-4999 are the application's, 4401 reads as "401". */
export const SESSION_ENDED_CLOSE_CODE = 4401;

/** Attaches the upgrade routes to the HTTP server. */
export function attachWebSockets(server: Server, routes: UpgradeRoutes, gate: OperatorGate): WebSockets {
  const mqttWss = new WebSocketServer({
    noServer: true,
    // MQTT over WebSocket names its subprotocol "mqtt" (MQTT 3.1.1 §6); accept clients that omit it.
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
  });
  const liveWss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const liveBySession = new Map<string, Set<WebSocket>>();

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '').split('?')[0];
    if (path === '/mqtt') {
      mqttWss.handleUpgrade(request, socket, head, (ws) => routes.mqtt(createWebSocketStream(ws), request));
    } else if (path === '/api/live') {
      // another site's page may open a WebSocket here and the browser would send the cookie (no CORS for WebSockets)
      if (!originMatchesHost(request.headers)) return refuse(socket, '403 Forbidden');
      const token = sessionTokenOf(request.headers);
      const session = token === undefined ? undefined : gate.authenticate(token);
      if (!session) return refuse(socket, '401 Unauthorized');
      liveWss.handleUpgrade(request, socket, head, (ws) => {
        let sockets = liveBySession.get(session.id);
        if (!sockets) liveBySession.set(session.id, (sockets = new Set()));
        sockets.add(ws);
        ws.on('close', () => {
          sockets.delete(ws);
          if (sockets.size === 0 && liveBySession.get(session.id) === sockets) liveBySession.delete(session.id);
        });
        routes.live(ws, request);
      });
    } else {
      refuse(socket, '404 Not Found');
    }
  });

  return {
    endSession(sessionId, reason) {
      const sockets = liveBySession.get(sessionId);
      if (!sockets) return;
      liveBySession.delete(sessionId);
      for (const ws of sockets) ws.close(SESSION_ENDED_CLOSE_CODE, reason.slice(0, 120));
    },
    close() {
      for (const wss of [mqttWss, liveWss]) {
        for (const client of wss.clients) client.terminate();
        wss.close();
      }
      liveBySession.clear();
    },
  };
}

function refuse(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
