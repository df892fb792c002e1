import { BufferType, Status } from "./enums";
import { proxy_get_buffer_bytes, proxy_get_buffer_status, proxy_set_buffer_bytes } from "./imports";
import { RET_A, RET_B, adoptReturned } from "./host-memory";
import { setLastStatus } from "./status";
import { decodeUtf8 } from "./utf8";
import { argPtr, argLen } from "./args";

/**
 * A host buffer of the current context: request/response body chunk, http
 * call response body, plugin/VM configuration, gRPC message, call data.
 *
 * Envoy rules followed:
 * - reads clamp: `start > size` gives an empty buffer, `start + max > size` is cut (never BadArgument);
 * - `set(start, length, data)`: start == 0 drains `length` bytes from the front then prepends `data`;
 *   start >= size appends; 0 < start < size is BadArgument; read-only buffers (http call body,
 *   configuration) answer BadArgument;
 * - Envoy does not fix `content-length` after a body edit: remove it in the headers phase.
 */
export class Buffer {
  constructor(public readonly type: BufferType) {}

  /** Current size in bytes, or -1 when unavailable (see lastStatus()). */
  size(): i32 {
    let s = <Status>proxy_get_buffer_status(this.type, RET_A, RET_B);
    setLastStatus(s);
    return s == Status.Ok ? load<i32>(RET_A) : -1;
  }

  /** Bytes [start, start+max) (zero-copy), or null on a host error (see lastStatus()). */
  get(start: u32 = 0, max: u32 = u32.MAX_VALUE): ArrayBuffer | null {
    let s = <Status>proxy_get_buffer_bytes(this.type, start, max, RET_A, RET_B);
    setLastStatus(s);
    if (s != Status.Ok) return null;
    return adoptReturned();
  }

  /** The same range decoded as UTF-8 (invalid sequences -> U+FFFD), or null. */
  getString(start: u32 = 0, max: u32 = u32.MAX_VALUE): string | null {
    let b = this.get(start, max);
    if (b === null) return null;
    return decodeUtf8(changetype<usize>(b), <usize>b.byteLength);
  }

  /** Raw proxy_set_buffer_bytes (see the class comment for Envoy's rules). */
  set<T>(start: u32, length: u32, data: T): Status {
    let p = argPtr<T>(data, 2);
    return <Status>proxy_set_buffer_bytes(this.type, start, length, p, argLen);
  }

  /** Replaces the whole buffer. */
  replace<T>(data: T): Status {
    return this.set<T>(0, u32.MAX_VALUE, data);
  }

  /**
   * Replaces the whole buffer with the first `length` bytes of `data` (for a reused output buffer
   * that is larger than what it holds). `length` is clamped to `data.byteLength`.
   */
  replaceBytes(data: ArrayBuffer, length: i32): Status {
    let n = <u32>min(max(length, 0), data.byteLength);
    return <Status>proxy_set_buffer_bytes(this.type, 0, u32.MAX_VALUE, changetype<usize>(data), n);
  }

  /** Inserts `data` before the current bytes. */
  prepend<T>(data: T): Status {
    return this.set<T>(0, 0, data);
  }

  /** Appends `data` after the current bytes. */
  append<T>(data: T): Status {
    return this.set<T>(u32.MAX_VALUE, 0, data);
  }

  /** Removes the first `n` bytes. */
  drain(n: u32): Status {
    return this.set<string>(0, n, "");
  }
}

// @ts-ignore: decorator
@lazy export const requestBody = new Buffer(BufferType.HttpRequestBody);
// @ts-ignore: decorator
@lazy export const responseBody = new Buffer(BufferType.HttpResponseBody);
// @ts-ignore: decorator
@lazy export const httpCallResponseBody = new Buffer(BufferType.HttpCallResponseBody);
// @ts-ignore: decorator
@lazy export const pluginConfiguration = new Buffer(BufferType.PluginConfiguration);
// @ts-ignore: decorator
@lazy export const vmConfiguration = new Buffer(BufferType.VmConfiguration);
// @ts-ignore: decorator
@lazy export const grpcReceiveBuffer = new Buffer(BufferType.GrpcReceiveBuffer);
// @ts-ignore: decorator
@lazy export const callData = new Buffer(BufferType.CallData);

/**
 * Chunk-safe streaming scanner with a carry-over window.
 *
 * A pattern of up to `maxMatch` bytes may straddle two body chunks. For each
 * chunk, `begin(chunk)` returns the window `carry ++ chunk`; find matches in
 * it, then call `end(emitUpTo, eos)`: bytes [0, emitUpTo) are released, the
 * rest is carried into the next window. `safeEnd(eos)` is the largest
 * emitUpTo that cannot cut a future match (window.length - (maxMatch - 1),
 * or everything at end of stream).
 *
 * To rewrite a streamed body (e.g. redaction): transform window[0, safeEnd)
 * into the output, replace the chunk with it (`body.replace(out)`), and keep
 * the held-back tail for the next chunk; at eos flush everything. The window
 * buffer is reused, so memory stays at O(chunk + maxMatch).
 */
export class ChunkScanner {
  private buf: ArrayBuffer;
  private carryLen: i32 = 0;
  private winLen: i32 = 0;
  /** Total bytes released so far (stream offset of window[0]). */
  offset: u64 = 0;

  constructor(public readonly maxMatch: i32) {
    this.buf = new ArrayBuffer(max(64, maxMatch * 2));
  }

  /** Bytes held back from the previous chunk. */
  get carried(): i32 {
    return this.carryLen;
  }

  /** The current window: carried bytes followed by `chunk` (a view, valid until the next call). */
  begin(chunk: ArrayBuffer | null): Uint8Array {
    let cl = chunk === null ? 0 : chunk.byteLength;
    let need = this.carryLen + cl;
    if (need > this.buf.byteLength) {
      let nb = new ArrayBuffer(max(need, this.buf.byteLength * 2));
      memory.copy(changetype<usize>(nb), changetype<usize>(this.buf), <usize>this.carryLen);
      this.buf = nb;
    }
    if (cl > 0) memory.copy(changetype<usize>(this.buf) + <usize>this.carryLen, changetype<usize>(chunk), <usize>cl);
    this.winLen = need;
    return Uint8Array.wrap(this.buf, 0, need);
  }

  /** Largest prefix of the window that can be released without cutting a match. */
  safeEnd(eos: bool): i32 {
    if (eos) return this.winLen;
    let keep = this.maxMatch - 1;
    return this.winLen > keep ? this.winLen - keep : 0;
  }

  /** Releases window[0, emitUpTo) and carries the rest. */
  end(emitUpTo: i32): void {
    if (emitUpTo < 0) emitUpTo = 0;
    if (emitUpTo > this.winLen) emitUpTo = this.winLen;
    let rest = this.winLen - emitUpTo;
    if (rest > 0) memory.copy(changetype<usize>(this.buf), changetype<usize>(this.buf) + <usize>emitUpTo, <usize>rest);
    this.carryLen = rest;
    this.offset += <u64>emitUpTo;
    this.winLen = 0;
  }

  /** Forgets carried bytes (start of a new stream). */
  reset(): void {
    this.carryLen = 0;
    this.winLen = 0;
    this.offset = 0;
  }
}

/** Index of `needle` in `hay[from..]`, or -1 (byte comparison, no allocation). */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: i32 = 0): i32 {
  let n = needle.length, h = hay.length;
  if (n == 0) return from <= h ? from : -1;
  let hp = hay.dataStart, np = needle.dataStart;
  let first = load<u8>(np);
  for (let i = max(from, 0); i <= h - n; i++) {
    if (load<u8>(hp + <usize>i) == first && memory.compare(hp + <usize>i, np, <usize>n) == 0) return i;
  }
  return -1;
}
