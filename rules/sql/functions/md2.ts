// MD2 (RFC 1319). OpenSSL 3 dropped it, so node:crypto cannot provide it. Its substitution
// table is "constructed from the digits of pi": rather than carry 256 magic numbers, we derive
// it the way it was built (pi's digits drive a shuffle of 0..255), once, on first use. The
// result is checked by the RFC's test vectors in the unit tests.

let sbox: Uint8Array | undefined;

/** Decimal digits of pi (3, 1, 4, 1, 5, ...) by Machin's formula in BigInt fixed point. */
function piDigits(count: number): number[] {
  const scale = 10n ** BigInt(count + 10);
  const arctanInv = (x: bigint): bigint => {
    let term = scale / x;
    let total = term;
    const x2 = x * x;
    for (let k = 1n, sign = -1n; term !== 0n; k++, sign = -sign) {
      term /= x2;
      total += (sign * term) / (2n * k + 1n);
    }
    return total;
  };
  const pi = 4n * (4n * arctanInv(5n) - arctanInv(239n));
  return [...pi.toString().slice(0, count)].map(Number);
}

function buildSbox(): Uint8Array {
  const digits = piDigits(2000);
  let next = 0;
  // A uniform number below n from the next one to three digits, rejecting the biased tail.
  const rand = (n: number): number => {
    for (;;) {
      let x = digits[next++]!;
      let y = 10;
      if (n > 10) { x = x * 10 + digits[next++]!; y = 100; }
      if (n > 100) { x = x * 10 + digits[next++]!; y = 1000; }
      if (x < n * Math.floor(y / n)) return x % n;
    }
  };
  const s = Uint8Array.from({ length: 256 }, (_, i) => i);
  for (let i = 2; i <= 256; i++) {
    const j = rand(i);
    [s[j], s[i - 1]] = [s[i - 1]!, s[j]!];
  }
  return s;
}

export function md2Hex(input: Buffer): string {
  const S = (sbox ??= buildSbox());
  const padLen = 16 - (input.length % 16);
  const msg = Buffer.concat([input, Buffer.alloc(padLen, padLen)]);
  const checksum = new Uint8Array(16);
  let l = 0;
  for (let i = 0; i < msg.length; i += 16) {
    for (let j = 0; j < 16; j++) {
      checksum[j]! ^= S[msg[i + j]! ^ l]!;
      l = checksum[j]!;
    }
  }
  const all = Buffer.concat([msg, checksum]);
  const x = new Uint8Array(48);
  for (let i = 0; i < all.length; i += 16) {
    for (let j = 0; j < 16; j++) {
      x[16 + j] = all[i + j]!;
      x[32 + j] = x[16 + j]! ^ x[j]!;
    }
    let t = 0;
    for (let j = 0; j < 18; j++) {
      for (let k = 0; k < 48; k++) {
        x[k]! ^= S[t]!;
        t = x[k]!;
      }
      t = (t + j) % 256;
    }
  }
  return Buffer.from(x.subarray(0, 16)).toString('hex');
}
