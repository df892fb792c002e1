import { constants as zc, gzipSync, gunzipSync } from 'node:zlib';

/** One regular file for a deterministic tar archive. */
export interface TarFile {
  name: string;
  data: Uint8Array;
  /** File mode, default 0o644. */
  mode?: number;
}

export interface TarOptions {
  /** Modification time in seconds since the epoch (same for every entry). Default 0. */
  mtime?: number;
}

const BLOCK = 512;
const RECORD = 10240;

function writeString(buf: Buffer, offset: number, length: number, value: string): void {
  const b = Buffer.from(value, 'utf8');
  if (b.length > length) throw new Error(`tar: field value too long: ${JSON.stringify(value)}`);
  b.copy(buf, offset);
}

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > length - 1) throw new Error(`tar: numeric field overflow (${value})`);
  writeString(buf, offset, length, digits.padStart(length - 1, '0') + '\0');
}

function header(name: string, size: number, mode: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`tar: name too long: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  writeString(h, 0, 100, base);
  writeOctal(h, 100, 8, mode);
  writeOctal(h, 108, 8, 0); // uid
  writeOctal(h, 116, 8, 0); // gid
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, mtime);
  h.fill(0x20, 148, 156); // checksum placeholder: spaces
  h[156] = 0x30; // '0' regular file
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  // uname/gname left empty: numeric ids only.
  writeString(h, 345, 155, prefix);
  let sum = 0;
  for (const byte of h) sum += byte;
  writeString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/**
 * A reproducible POSIX ustar archive: entries in the given order, uid/gid 0, no user/group
 * names, fixed mode and mtime, two zero blocks and padding to a 10 KiB record (as GNU tar).
 */
export function createTar(files: TarFile[], opts: TarOptions = {}): Buffer {
  const mtime = Math.max(0, Math.floor(opts.mtime ?? 0));
  const parts: Buffer[] = [];
  for (const f of files) {
    if (!f.name || f.name.endsWith('/')) throw new Error(`tar: invalid file name ${JSON.stringify(f.name)}`);
    parts.push(header(f.name, f.data.length, f.mode ?? 0o644, mtime));
    parts.push(Buffer.from(f.data));
    const pad = (BLOCK - (f.data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  let tar = Buffer.concat(parts);
  const rest = tar.length % RECORD;
  if (rest) tar = Buffer.concat([tar, Buffer.alloc(RECORD - rest)]);
  return tar;
}

/**
 * gzip with no file name, mtime 0, fixed level and OS byte 255 ("unknown"), so the bytes depend
 * only on the input and on zlib's deflate implementation.
 */
export function deterministicGzip(data: Uint8Array): Buffer {
  const gz = gzipSync(data, { level: 9, memLevel: 8, windowBits: 15, strategy: zc.Z_DEFAULT_STRATEGY });
  gz.writeUInt32LE(0, 4); // MTIME
  gz[9] = 0xff; // OS: unknown
  return gz;
}

/** An entry read back from a tar stream. */
export interface TarEntry {
  name: string;
  type: string;
  size: number;
  data: Buffer;
}

/** Error text mimics Go's archive/tar and compress/gzip where Istio surfaces them. */
export class TarFormatError extends Error {}

function readString(buf: Buffer, off: number, len: number): string {
  const slice = buf.subarray(off, off + len);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

function readOctal(buf: Buffer, off: number, len: number): number {
  if (buf[off] & 0x80) {
    // base-256 (GNU) encoding
    let v = 0;
    for (let i = 1; i < len; i++) v = v * 256 + buf[off + i];
    return v;
  }
  const s = readString(buf, off, len).replace(/[ \0]+$/g, '').trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError('archive/tar: invalid tar header');
  return parseInt(s, 8);
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.subarray(i, sp).toString(), 10);
    if (!Number.isFinite(len) || len <= 0) throw new TarFormatError('archive/tar: invalid tar header');
    const rec = data.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

/** Walks a tar archive; `visit` returns true to stop. Throws TarFormatError on corruption. */
export function walkTar(tar: Buffer, visit: (e: TarEntry) => boolean | void): void {
  let off = 0;
  let longName: string | undefined;
  let pax: Record<string, string> = {};
  while (off < tar.length) {
    if (off + BLOCK > tar.length) throw new TarFormatError('unexpected EOF');
    const h = tar.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) return;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
    if (readOctal(h, 148, 8) !== sum) throw new TarFormatError('archive/tar: invalid tar header');
    const type = String.fromCharCode(h[156] || 0x30);
    let size = readOctal(h, 124, 12);
    const start = off + BLOCK;
    const end = start + size;
    if (end > tar.length) throw new TarFormatError('unexpected EOF');
    const data = tar.subarray(start, end);
    off = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'L') {
      longName = readString(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      pax = { ...pax, ...parsePax(Buffer.from(data)) };
      continue;
    }
    if (type === 'g') continue;
    let name = readString(h, 0, 100);
    const magic = readString(h, 257, 6);
    if (magic === 'ustar') {
      const prefix = readString(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    if (longName !== undefined) name = longName;
    if (pax.path !== undefined) name = pax.path;
    if (pax.size !== undefined) size = Number(pax.size);
    longName = undefined;
    pax = {};
    if (visit({ name, type, size, data: Buffer.from(data) })) return;
  }
}

/**
 * gunzip the way Go's gzip reader reports failures: header problems are returned with Go's
 * texts, and a truncated or corrupt stream yields what could be decoded plus an error.
 */
export function gunzipLikeGo(data: Uint8Array): { out: Buffer; headerError?: string; streamError?: string } {
  const b = Buffer.from(data);
  if (b.length === 0) return { out: Buffer.alloc(0), headerError: 'EOF' };
  if (b.length < 10) return { out: Buffer.alloc(0), headerError: 'unexpected EOF' };
  if (b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 8) return { out: Buffer.alloc(0), headerError: 'gzip: invalid header' };
  try {
    return { out: gunzipSync(b) };
  } catch (err) {
    let out: Buffer = Buffer.alloc(0);
    try {
      out = gunzipSync(b, { finishFlush: zc.Z_SYNC_FLUSH });
    } catch {
      /* keep empty */
    }
    const code = (err as NodeJS.ErrnoException).code;
    const streamError = code === 'Z_BUF_ERROR' ? 'unexpected EOF' : code === 'Z_DATA_ERROR' ? 'gzip: invalid checksum' : 'unexpected EOF';
    return { out, streamError };
  }
}
