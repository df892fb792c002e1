/**
 * A small bcrypt ($2b$) for test htpasswd files (distribution's htpasswd auth accepts bcrypt only).
 * Blowfish's initial state is the hex expansion of pi, computed here with BigInt (Machin's formula)
 * rather than pasted as a table.
 */
import { randomBytes } from 'node:crypto';

const WORDS = 18 + 4 * 256;
let initial: Uint32Array | undefined;

function atanInv(x: bigint, scale: bigint): bigint {
  // atan(1/x) * scale
  let term = scale / x;
  const x2 = x * x;
  let sum = term;
  for (let k = 1n; term !== 0n; k++) {
    term /= x2;
    const t = term / (2n * k + 1n);
    sum += k % 2n === 1n ? -t : t;
  }
  return sum;
}

function piWords(): Uint32Array {
  if (initial) return initial;
  const bits = BigInt(WORDS * 32 + 64);
  const scale = 1n << bits;
  const pi = 16n * atanInv(5n, scale) - 4n * atanInv(239n, scale);
  const frac = (pi - 3n * scale) >> 64n; // WORDS*32 fractional bits
  const out = new Uint32Array(WORDS);
  for (let i = 0; i < WORDS; i++) out[i] = Number((frac >> BigInt((WORDS - 1 - i) * 32)) & 0xffffffffn);
  initial = out;
  return out;
}

class Blowfish {
  readonly P: Uint32Array;
  readonly S: Uint32Array;
  constructor() {
    const w = piWords();
    this.P = w.slice(0, 18);
    this.S = w.slice(18);
  }
  private f(x: number): number {
    const S = this.S;
    return ((((S[x >>> 24] + S[256 + ((x >>> 16) & 0xff)]) >>> 0) ^ S[512 + ((x >>> 8) & 0xff)]) + S[768 + (x & 0xff)]) >>> 0;
  }
  encrypt(lr: Uint32Array, off: number): void {
    let l = lr[off];
    let r = lr[off + 1];
    for (let i = 0; i < 16; i += 2) {
      l = (l ^ this.P[i]) >>> 0;
      r = (r ^ this.f(l)) >>> 0;
      r = (r ^ this.P[i + 1]) >>> 0;
      l = (l ^ this.f(r)) >>> 0;
    }
    lr[off] = (r ^ this.P[17]) >>> 0;
    lr[off + 1] = (l ^ this.P[16]) >>> 0;
  }
  expand(key: Uint8Array, salt?: Uint8Array): void {
    let kp = 0;
    const word = (data: Uint8Array, pos: { p: number }) => {
      let w = 0;
      for (let i = 0; i < 4; i++) {
        w = ((w << 8) | data[pos.p]) >>> 0;
        pos.p = (pos.p + 1) % data.length;
      }
      return w;
    };
    const kpos = { p: kp };
    for (let i = 0; i < 18; i++) this.P[i] = (this.P[i] ^ word(key, kpos)) >>> 0;
    kp = kpos.p;
    const spos = { p: 0 };
    const lr = new Uint32Array(2);
    const next = () => {
      if (salt) {
        lr[0] ^= word(salt, spos);
        lr[1] ^= word(salt, spos);
      }
      this.encrypt(lr, 0);
    };
    for (let i = 0; i < 18; i += 2) {
      next();
      this.P[i] = lr[0];
      this.P[i + 1] = lr[1];
    }
    for (let i = 0; i < 1024; i += 2) {
      next();
      this.S[i] = lr[0];
      this.S[i + 1] = lr[1];
    }
  }
}

const ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function b64encode(data: Uint8Array, chars: number): string {
  let out = '';
  let acc = 0;
  let n = 0;
  for (const byte of data) {
    acc = (acc << 8) | byte;
    n += 8;
    while (n >= 6) {
      n -= 6;
      out += ALPHABET[(acc >> n) & 63];
    }
  }
  if (n > 0) out += ALPHABET[(acc << (6 - n)) & 63];
  return out.slice(0, chars);
}

function b64decode(s: string, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  let acc = 0;
  let n = 0;
  let o = 0;
  for (const ch of s) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new Error('bad bcrypt base64');
    acc = ((acc << 6) | v) & 0xffffff;
    n += 6;
    if (n >= 8 && o < bytes) {
      n -= 8;
      out[o++] = (acc >> n) & 0xff;
    }
  }
  return out;
}

/** bcrypt hash in modular crypt format `$2b$CC$<22 salt><31 hash>`. */
export function bcrypt(password: string, cost = 4, saltChars?: string): string {
  const salt = saltChars ? b64decode(saltChars, 16) : new Uint8Array(randomBytes(16));
  const key = Buffer.concat([Buffer.from(password, 'utf8'), Buffer.from([0])]).subarray(0, 72);
  const bf = new Blowfish();
  bf.expand(key, salt);
  for (let i = 0; i < 2 ** cost; i++) {
    bf.expand(key);
    bf.expand(salt);
  }
  const ctext = new Uint32Array(6);
  const magic = Buffer.from('OrpheanBeholderScryDoubt');
  for (let i = 0; i < 6; i++) ctext[i] = magic.readUInt32BE(i * 4);
  for (let i = 0; i < 64; i++) for (let j = 0; j < 6; j += 2) bf.encrypt(ctext, j);
  const raw = Buffer.alloc(24);
  for (let i = 0; i < 6; i++) raw.writeUInt32BE(ctext[i], i * 4);
  return `$2b$${String(cost).padStart(2, '0')}$${b64encode(salt, 22)}${b64encode(raw.subarray(0, 23), 31)}`;
}
