// What the broker has seen of each MQTT client since it started: connected or not, since when,
// when last heard from, how many publishes it got accepted and at what rate (GET /api/fleet).
//
// Fed from the MQTT server's hooks; `published` runs once per accepted device publish, so it is
// O(1) with no allocation: the rate is the usual two-window estimate (the previous minute's count
// weighted by how much of it still lies in the last 60 s, plus this minute's count) instead of a
// ring of per-second buckets per client. Bounded: at most `maxClients` clients are remembered;
// a new one beyond that evicts the client disconnected the longest (counted); when every
// remembered client is connected, the new one is not tracked (counted too).

export interface ClientActivity {
  clientId: string;
  connected: boolean;
  /** epoch ms of the current connection's CONNECT, when connected */
  connectedSince?: number;
  /** epoch ms of its last publish, connect or disconnect */
  lastSeen: number;
  /** publishes accepted since start */
  messages: number;
  /** publishes accepted in about the last 60 s */
  messagesPerMinute: number;
}

export interface FleetActivityCounters {
  /** clients remembered now */
  tracked: number;
  connected: number;
  /** disconnected clients forgotten to make room */
  evicted: number;
  /** clients not remembered because every remembered one was connected */
  untracked: number;
}

export interface FleetActivity {
  /** a CONNECT was accepted; `connection` tells this connection from a later one with the same id */
  connected(clientId: string, connection: object): void;
  /** a connection ended (a stale one, replaced by a newer connection of the same id, is ignored) */
  disconnected(clientId: string, connection: object): void;
  /** a device publish was accepted */
  published(clientId: string): void;
  /** every remembered client */
  snapshot(): ClientActivity[];
  /** one remembered client, or undefined */
  get(clientId: string): ClientActivity | undefined;
  counters(): FleetActivityCounters;
}

export interface FleetActivityOptions {
  /** clients remembered at most (default 100,000) */
  maxClients?: number;
  now?: () => number;
}

const WINDOW_MS = 60_000;

interface Entry {
  connection: object | null;
  connectedSince: number;
  lastSeen: number;
  messages: number;
  /** start of the minute `current` counts */
  windowStart: number;
  current: number;
  previous: number;
}

export function createFleetActivity(options: FleetActivityOptions = {}): FleetActivity {
  const maxClients = options.maxClients ?? 100_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  // disconnected clients, longest disconnected first (Map keeps insertion order)
  const idle = new Map<string, Entry>();
  let connectedCount = 0;
  let evicted = 0;
  let untracked = 0;

  function roll(e: Entry, t: number): void {
    const start = t - (t % WINDOW_MS);
    if (start === e.windowStart) return;
    e.previous = start - e.windowStart === WINDOW_MS ? e.current : 0;
    e.current = 0;
    e.windowStart = start;
  }

  function rate(e: Entry, t: number): number {
    roll(e, t);
    const elapsed = (t - e.windowStart) / WINDOW_MS;
    return Math.round(e.current + e.previous * (1 - elapsed));
  }

  function admit(clientId: string, t: number): Entry | undefined {
    if (entries.size >= maxClients) {
      const oldest = idle.keys().next();
      if (oldest.done) {
        untracked++;
        return undefined;
      }
      idle.delete(oldest.value);
      entries.delete(oldest.value);
      evicted++;
    }
    const e: Entry = { connection: null, connectedSince: 0, lastSeen: t, messages: 0, windowStart: t - (t % WINDOW_MS), current: 0, previous: 0 };
    entries.set(clientId, e);
    return e;
  }

  function activityOf(clientId: string, e: Entry, t: number): ClientActivity {
    const a: ClientActivity = { clientId, connected: e.connection !== null, lastSeen: e.lastSeen, messages: e.messages, messagesPerMinute: rate(e, t) };
    if (e.connection !== null) a.connectedSince = e.connectedSince;
    return a;
  }

  return {
    connected(clientId, connection) {
      const t = now();
      const e = entries.get(clientId) ?? admit(clientId, t);
      if (!e) return;
      if (e.connection === null) connectedCount++;
      idle.delete(clientId);
      e.connection = connection;
      e.connectedSince = t;
      e.lastSeen = t;
    },
    disconnected(clientId, connection) {
      const e = entries.get(clientId);
      if (!e || e.connection !== connection) return;
      e.connection = null;
      e.lastSeen = now();
      connectedCount--;
      idle.set(clientId, e);
    },
    published(clientId) {
      const e = entries.get(clientId);
      if (!e) return;
      const t = now();
      roll(e, t);
      e.current++;
      e.messages++;
      e.lastSeen = t;
    },
    snapshot() {
      const t = now();
      return [...entries].map(([clientId, e]) => activityOf(clientId, e, t));
    },
    get(clientId) {
      const e = entries.get(clientId);
      return e && activityOf(clientId, e, now());
    },
    counters: () => ({ tracked: entries.size, connected: connectedCount, evicted, untracked }),
  };
}
