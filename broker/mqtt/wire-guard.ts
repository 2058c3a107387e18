// Checks MQTT 3.1.1 asks of a server that neither aedes 1.x nor its codec (mqtt-packet) makes,
// added to each connection's own parser (never mqtt-packet's prototype, which mqtt.js shares):
//
// - a remaining length larger than any packet we accept closes the connection before its bytes
//   are buffered (the codec would otherwise hold up to 256 MB per connection for one packet);
// - ill-formed UTF-8 or U+0000 in any string (topic, filter, client id, username) closes the
//   connection [MQTT-1.5.3-1] [MQTT-1.5.3-2] (the codec decodes it to U+FFFD and carries on);
// - a SUBSCRIBE or UNSUBSCRIBE without a topic filter closes it [MQTT-3.8.3-3] [MQTT-3.10.3-2];
// - a CONNECT with a protocol level we do not speak gets CONNACK 0x01 [MQTT-3.1.2-2] and one with
//   an empty client id and CleanSession 0 gets CONNACK 0x02 [MQTT-3.1.3-8], then the connection
//   is closed (the codec closed the first silently; aedes accepted the second).
//
// The parser's private methods are wrapped; checkParserShape() makes a codec upgrade that
// renames them fail at start-up instead of silently dropping these checks.
import { isUtf8 } from 'node:buffer';
import type { Duplex } from 'node:stream';

/** The largest MQTT 3.1.1 CONNECT: header, protocol name, level, flags, keep-alive, then client
 * id, will topic, will payload, username and password of at most 2 + 65,535 bytes each. */
export const MAX_CONTROL_PACKET_BYTES = 10 + 5 * (2 + 65_535);

export type WireRefusal = 'PacketTooLarge' | 'MalformedUtf8' | 'EmptyTopicFilterList' | 'UnacceptableProtocolLevel' | 'IdentifierRejected';

export interface WireLimits {
  /** remaining length a PUBLISH may have: the payload limit plus the longest topic and a packet id */
  maxPublishBytes: number;
  /** told of each refusal; the connection is already being closed */
  refused(reason: WireRefusal, detail: { cmd: string | undefined; bytes?: number }): void;
}

/** mqtt-packet 9's Parser, as far as the checks below use it */
interface CodecParser {
  packet: { cmd?: string; length: number; clientId?: string; clean?: boolean; subscriptions?: unknown[]; unsubscriptions?: unknown[] };
  error: Error | null;
  _pos: number;
  _list: { length: number; readUInt8(at: number): number; readUInt16BE(at: number): number; slice(start: number, end: number): Buffer; toString(enc: 'utf8', start: number, end: number): string };
  parse(buf: Buffer): number;
  _parseLength(): boolean;
  _parseString(): string | null;
  _parseConnect(): unknown;
  _parseSubscribe(): unknown;
  _parseUnsubscribe(): unknown;
  _emitError(err: Error): void;
}

const WRAPPED = ['parse', '_parseLength', '_parseString', '_parseConnect', '_parseSubscribe', '_parseUnsubscribe', '_emitError'] as const;

/** Throws when `client` (an aedes client) has no parser of the shape the checks wrap. */
export function checkParserShape(client: unknown): void {
  const parser = (client as { _parser?: Record<string, unknown> })._parser;
  const missing = parser ? WRAPPED.filter((name) => typeof parser[name] !== 'function') : ['_parser'];
  if (missing.length > 0) throw new Error(`the MQTT codec changed (missing ${missing.join(', ')}): update broker/mqtt/wire-guard.ts`);
}

/** Adds the checks to the parser of one aedes client; `conn` is that client's stream. */
export function guardWire(client: unknown, conn: Duplex, limits: WireLimits): void {
  const parser = (client as { _parser: CodecParser })._parser;
  const codec = {
    parseLength: parser._parseLength, parseString: parser._parseString, parseConnect: parser._parseConnect,
    parseSubscribe: parser._parseSubscribe, parseUnsubscribe: parser._parseUnsubscribe, emitError: parser._emitError,
  };

  function fail(this: CodecParser, reason: WireRefusal, message: string, bytes?: number): void {
    limits.refused(reason, { cmd: this.packet.cmd, ...(bytes === undefined ? {} : { bytes }) });
    codec.emitError.call(this, Object.assign(new Error(message), { code: reason }));
  }

  /** answers a CONNECT with a refusing CONNACK, then closes; the parser reads nothing more */
  function refuseConnect(this: CodecParser, reason: WireRefusal, returnCode: 1 | 2): void {
    limits.refused(reason, { cmd: 'connect' });
    this.error = new Error(reason); // ends this parse loop without telling aedes, which would destroy the stream before the CONNACK is out
    this.parse = () => 0;
    conn.end(Buffer.from([0x20, 0x02, 0x00, returnCode]), () => conn.destroy());
  }

  // the codec reports some faults twice (our error, then its own "cannot parse"): one is enough
  parser._emitError = function (this: CodecParser, err: Error) {
    if (this.error === null) codec.emitError.call(this, err);
  };

  parser._parseLength = function (this: CodecParser) {
    const done = codec.parseLength.call(this);
    if (!done || this.error !== null) return done;
    const max = this.packet.cmd === 'publish' ? limits.maxPublishBytes : MAX_CONTROL_PACKET_BYTES;
    if (this.packet.length > max) {
      fail.call(this, 'PacketTooLarge', `${this.packet.cmd ?? 'packet'} of ${this.packet.length} bytes exceeds ${max}`, this.packet.length);
      return false;
    }
    return true;
  };

  parser._parseString = function (this: CodecParser) {
    const start = this._pos;
    const text = codec.parseString.call(this);
    if (text === null) return null;
    // ill-formed UTF-8 always decodes to U+FFFD, so only then are the bytes checked again
    const malformed = text.includes('\u0000') || (text.includes('\uFFFD') && !isUtf8(this._list.slice(start + 2, this._pos)));
    if (!malformed) return text;
    fail.call(this, 'MalformedUtf8', `${this.packet.cmd ?? 'packet'} carries a string that is not well-formed UTF-8 or contains U+0000`);
    return null;
  };

  parser._parseConnect = function (this: CodecParser) {
    // the protocol level is read here because the codec fails a level it does not know silently
    const list = this._list;
    if (list.length >= 2) {
      const nameLength = list.readUInt16BE(0);
      const name = list.length >= 2 + nameLength ? list.toString('utf8', 2, 2 + nameLength) : '';
      if ((name === 'MQTT' || name === 'MQIsdp') && list.length > 2 + nameLength) {
        const level = list.readUInt8(2 + nameLength) & 0x7f; // bit 7: the bridge flag some brokers set
        if (level !== 3 && level !== 4 && level !== 5) return refuseConnect.call(this, 'UnacceptableProtocolLevel', 1);
      }
    }
    const result = codec.parseConnect.call(this);
    if (this.error === null && this.packet.clientId === '' && this.packet.clean === false) return refuseConnect.call(this, 'IdentifierRejected', 2);
    return result;
  };

  parser._parseSubscribe = function (this: CodecParser) {
    const result = codec.parseSubscribe.call(this);
    if (this.error === null && this.packet.subscriptions?.length === 0) fail.call(this, 'EmptyTopicFilterList', 'SUBSCRIBE without a topic filter');
    return result;
  };

  parser._parseUnsubscribe = function (this: CodecParser) {
    const result = codec.parseUnsubscribe.call(this);
    if (this.error === null && this.packet.unsubscriptions?.length === 0) fail.call(this, 'EmptyTopicFilterList', 'UNSUBSCRIBE without a topic filter');
    return result;
  };
}
