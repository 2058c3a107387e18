import { parseCliArgs } from '../../../devices-sim/cli-args.js';
import { SimError } from '../../../devices-sim/errors.js';
import { resolveFleetOptions } from '../../../devices-sim/options.js';
import { checkPayloadBytes, padPayload, payloadSizeFor, PAYLOAD_BYTES_RANGE } from '../../../devices-sim/payload.js';
import { errorOf } from './sim-error.js';

const payload = (seq: number) => JSON.stringify({ deviceId: 'sim-1', ts: 1_768_467_600_000, seq, temperature: 21.5, humidity: 40.12, battery: 88 });


describe('payload padding', () => {
  it.each([64, 100, 1000, 4096, 65_536, 131_072])('pads a payload to exactly %i bytes with a "pad" string, keeping every reading', (bytes) => {
    const padded = padPayload(payload(7), bytes);
    expect(Buffer.byteLength(padded)).toBe(bytes < payload(7).length + 9 ? payload(7).length : bytes);
    const parsed = JSON.parse(padded) as Record<string, unknown>;
    expect(parsed).toMatchObject(JSON.parse(payload(7)));
    if (bytes >= 128) expect(parsed.pad).toEqual(expect.stringMatching(/^[a-z0-9]+$/));
  });

  it('keeps the exact size whatever the length of seq and ts', () => {
    for (const seq of [1, 99, 12_345, 1_000_000_000]) expect(Buffer.byteLength(padPayload(payload(seq), 512))).toBe(512);
  });

  it('leaves a payload alone when it is already larger than the target (the size is then its own)', () => {
    const big = JSON.stringify({ deviceId: 'sim-1', ts: 1, seq: 1, note: 'x'.repeat(200) });
    expect(padPayload(big, 128)).toBe(big);
    // exactly the pad's overhead left: an empty pad still fits
    const exact = payload(1).length + ',"pad":""'.length;
    expect(JSON.parse(padPayload(payload(1), exact)).pad).toBe('');
    expect(padPayload(payload(1), exact - 1)).toBe(payload(1));
  });

  it('accepts sizes from 64 to 131072 bytes (AWS IoT\'s largest payload) and refuses others with InvalidArgumentException', () => {
    expect(PAYLOAD_BYTES_RANGE).toEqual([64, 131_072]);
    for (const ok of [64, 1024, 131_072]) expect(() => checkPayloadBytes(ok)).not.toThrow();
    for (const bad of [63, 0, -1, 131_073, 100.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const error = errorOf(() => checkPayloadBytes(bad));
      expect(error).toBeInstanceOf(SimError);
      expect(error.code).toBe('InvalidArgumentException');
      expect(error.message).toMatch(/^payloadBytes must be a whole number of bytes between 64 and 131072, got /);
    }
  });

  it('is off by default and validated as a fleet option', () => {
    expect(resolveFleetOptions({ url: 'mqtt://h:1883' }).payloadBytes).toBeUndefined();
    expect(resolveFleetOptions({ url: 'mqtt://h:1883', payloadBytes: 2048 }).payloadBytes).toBe(2048);
    expect(errorOf(() => resolveFleetOptions({ url: 'mqtt://h:1883', payloadBytes: 10 })).message).toBe(
      'payloadBytes must be a whole number of bytes between 64 and 131072, got 10',
    );
  });

  it('is set with --payload-bytes, whose bad values are refused naming the flag', () => {
    const command = parseCliArgs(['--payload-bytes', '4096']);
    expect(command.kind === 'run' && command.options.payloadBytes).toBe(4096);
    for (const [raw, message] of [
      ['32', /^--payload-bytes must be a whole number of bytes between 64 and 131072, got 32 \(see --help\)$/],
      ['200000', /--payload-bytes must be .* got 200000/],
      ['1.5k', /--payload-bytes expects a number, got "1.5k"/],
    ] as const) {
      const error = errorOf(() => parseCliArgs(['--payload-bytes', raw]));
      expect(error.code).toBe('InvalidArgumentException');
      expect(error.message).toMatch(message);
    }
  });

  it('spreads sizes over a MIN-MAX range by sequence number: every size in range, all of it used, the same for the same seq', () => {
    const sizes = Array.from({ length: 19_300 }, (_, i) => payloadSizeFor(i + 1, 64, 256));
    expect(Math.min(...sizes)).toBe(64);
    expect(Math.max(...sizes)).toBe(256);
    // evenly: each of the 193 sizes about 100 times
    const counts = new Map<number, number>();
    for (const n of sizes) counts.set(n, (counts.get(n) ?? 0) + 1);
    expect(counts.size).toBe(193);
    expect(Math.min(...counts.values())).toBeGreaterThan(50);
    expect(Math.max(...counts.values())).toBeLessThan(150);
    expect(payloadSizeFor(42, 64, 256)).toBe(sizes[41]);
    expect(payloadSizeFor(7, 300, 300)).toBe(300);
  });

  it('takes --payload-bytes MIN-MAX, and refuses a reversed or out-of-range one naming the flag', () => {
    const command = parseCliArgs(['--payload-bytes', '64-256']);
    expect(command.kind === 'run' && [command.options.payloadBytes, command.options.payloadBytesMax]).toEqual([64, 256]);
    for (const [raw, message] of [
      ['256-64', /^--payload-bytes range must run from the smaller to the larger size, got "256-64" \(see --help\)$/],
      ['10-256', /--payload-bytes must be a whole number of bytes between 64 and 131072, got 10/],
    ] as const) {
      const error = errorOf(() => parseCliArgs(['--payload-bytes', raw]));
      expect(error.code).toBe('InvalidArgumentException');
      expect(error.message).toMatch(message);
    }
    expect(errorOf(() => resolveFleetOptions({ url: 'mqtt://h:1883', payloadBytesMax: 256 })).message).toMatch(/payloadBytesMax needs payloadBytes/);
  });
});
