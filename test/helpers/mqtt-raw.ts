// MQTT on a bare TCP socket, for tests that must put exactly the bytes they choose on the wire:
// valid packets from mqtt-packet (the codec under mqtt.js and aedes), hand-framed packets the
// codec would refuse to write, and a connection that reports the packets it gets back and when
// the broker closed it. Also the small seeded PRNG the hostile-input tests share.
import { connect as tcpConnect, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';

export type { Packet };

export interface RawConnection {
  readonly socket: Socket;
  /** the packets the broker sent, in order */
  readonly received: Packet[];
  /** true once the broker (or the network) closed the connection */
  readonly isClosed: boolean;
  send(bytes: Buffer | Packet): void;
  /** the first received packet of kind `cmd`, waiting up to `timeoutMs`; undefined if none came */
  next(cmd: Packet['cmd'], timeoutMs?: number): Promise<Packet | undefined>;
  /** whether the connection was closed within `timeoutMs` */
  closedWithin(timeoutMs: number): Promise<boolean>;
  destroy(): void;
}

/** Opens a TCP connection to the broker; nothing is sent yet. */
export async function rawConnect(port: number, host = '127.0.0.1'): Promise<RawConnection> {
  const socket = tcpConnect(port, host);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const received: Packet[] = [];
  let isClosed = false;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on('packet', (p: Packet) => {
    received.push(p);
    wake();
  });
  parser.on('error', () => socket.destroy()); // the broker sent something we cannot read: a failure the caller sees as a close
  socket.on('data', (chunk: Buffer) => parser.parse(chunk));
  socket.on('error', () => undefined); // ECONNRESET after the broker hung up is an expected outcome here
  socket.on('close', () => {
    isClosed = true;
    wake();
  });

  /** resolves when `done()` holds or after `timeoutMs` */
  function until(done: () => boolean, timeoutMs: number): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      const check = () => {
        if (done()) finish();
      };
      const timer = setTimeout(finish, timeoutMs);
      waiters.add(check);
    });
  }

  return {
    socket,
    received,
    get isClosed() {
      return isClosed;
    },
    send(bytes) {
      if (socket.destroyed || !socket.writable) return;
      socket.write(Buffer.isBuffer(bytes) ? bytes : mqttPacket.generate(bytes));
    },
    async next(cmd, timeoutMs = 5000) {
      await until(() => isClosed || received.some((p) => p.cmd === cmd), timeoutMs);
      return received.find((p) => p.cmd === cmd);
    },
    async closedWithin(timeoutMs) {
      await until(() => isClosed, timeoutMs);
      return isClosed;
    },
    destroy() {
      socket.destroy();
    },
  };
}

/** Connects and completes an MQTT 3.1.1 CONNECT (CONNACK 0 expected, else it throws). */
export async function rawSession(port: number, clientId: string, keepalive = 0): Promise<RawConnection> {
  const conn = await rawConnect(port);
  conn.send(connectPacket(clientId, { keepalive }));
  const connack = await conn.next('connack');
  if (!connack || (connack as { returnCode?: number }).returnCode !== 0) {
    conn.destroy();
    throw new Error(`CONNECT of ${clientId} was not accepted: ${JSON.stringify(connack)}`);
  }
  return conn;
}

// --- valid packets (mqtt-packet) -----------------------------------------------------------------

export function connectPacket(clientId: string, extra: { keepalive?: number; clean?: boolean } = {}): Packet {
  return { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId, clean: extra.clean ?? true, keepalive: extra.keepalive ?? 0 };
}

export function publishPacket(topic: string, payload: Buffer | string, qos: 0 | 1, messageId?: number): Packet {
  return { cmd: 'publish', topic, payload, qos, retain: false, dup: false, ...(qos > 0 ? { messageId: messageId ?? 1 } : {}) };
}

export function subscribePacket(filters: string[], messageId = 1): Packet {
  return { cmd: 'subscribe', messageId, subscriptions: filters.map((topic) => ({ topic, qos: 0 as const })) };
}

export const PINGREQ: Packet = { cmd: 'pingreq' };
export const DISCONNECT: Packet = { cmd: 'disconnect' };

export function encode(packet: Packet): Buffer {
  return mqttPacket.generate(packet);
}

// --- hand-framed packets, for what the codec will not write --------------------------------------

/** MQTT's variable byte integer; `minBytes` pads it with continuation bytes (a malformed length). */
export function varInt(value: number, minBytes = 1): Buffer {
  const out: number[] = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0 || out.length + 1 < minBytes) byte |= 0x80;
    out.push(byte);
  } while (value > 0 || out.length < minBytes);
  return Buffer.from(out);
}

/** A length-prefixed MQTT string from raw bytes (so it may be ill-formed UTF-8). */
export function mqttString(bytes: Buffer | string): Buffer {
  const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

/** A packet: the first byte (type and flags), the remaining length, then `body`. */
export function frame(firstByte: number, ...body: Buffer[]): Buffer {
  const rest = Buffer.concat(body);
  return Buffer.concat([Buffer.from([firstByte]), varInt(rest.length), rest]);
}

/** A CONNECT with a chosen protocol name, level, flags and client id bytes. */
export function rawConnectPacket(opts: { name?: string; level?: number; flags?: number; clientId?: Buffer | string } = {}): Buffer {
  return frame(0x10, mqttString(opts.name ?? 'MQTT'), Buffer.from([opts.level ?? 4, opts.flags ?? 0x02]), u16(0), mqttString(opts.clientId ?? 'raw'));
}

/** A PUBLISH with raw topic bytes; `qos` may be 3 (both QoS bits set, which is malformed). */
export function rawPublishPacket(topic: Buffer | string, payload: Buffer | string, qos: 0 | 1 | 2 | 3, messageId = 1): Buffer {
  return frame(0x30 | (qos << 1), mqttString(topic), qos > 0 ? u16(messageId) : Buffer.alloc(0), Buffer.from(payload));
}

// --- a seeded PRNG (xorshift32): the same seed gives the same bytes -------------------------------

export interface Random {
  readonly seed: number;
  /** a uint32 */
  next(): number;
  /** an integer in [0, n) */
  below(n: number): number;
  bytes(n: number): Buffer;
  pick<T>(items: readonly T[]): T;
}

export function xorshift(seed: number): Random {
  let state = seed >>> 0 || 0x9e3779b9; // xorshift's state must not be zero
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  const below = (n: number) => next() % n;
  return {
    seed,
    next,
    below,
    bytes(n) {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = next() & 0xff;
      return b;
    },
    pick: (items) => items[below(items.length)]!,
  };
}
