// The SDK's stream-context registry (context.ts): live streams are kept in 256 buckets chosen by
// context id. A worker can have thousands of live streams (HTTP/2, gRPC streaming, long polls);
// each callback must reach its own stream's context, whatever the order, while other streams
// start and end and (default runtime) the collector runs in between.
import { describe, expect, it } from '@jest/globals';
import { loadPlugin, type HeaderList } from '@meshwasm/proxy-wasm-host';
import { fixtures } from './helpers';

const get = (h: HeaderList, k: string) => h.find(([n]) => n === k)?.[1];
const LIVE = 1000; // ~4 streams per bucket

/** A deterministic shuffle of 0..n-1. */
function order(n: number): number[] {
  const a = [...Array(n).keys()];
  let x = 12345;
  for (let i = n - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const j = x % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

describe('stream contexts', () => {
  it(`default runtime: ${LIVE} live streams keep their own state across collections, answered in any order`, async () => {
    const p = await loadPlugin(fixtures('api').api, { config: {}, clusters: ['auth'], rootId: 'api' });
    const live = [];
    for (let i = 0; i < LIVE; i++) {
      const s = p.newStream();
      const raw = Buffer.from(`s${i}`);
      s.sendRequestHeaders([[':method', 'GET'], [':path', '/'], [':authority', 'h'], ['x-op', 'bytes'], ['x-raw', raw as never]], true);
      live.push({ s, hex: raw.toString('hex') });
      // streams that start and end in between: every 32 ended streams the SDK collects
      if (i % 10 === 0) await p.exchange({ headers: [['x-op', 'bytes'], ['x-raw', 'zz']] });
    }
    for (const k of order(LIVE)) {
      const { s, hex } = live[k];
      s.sendResponseHeaders([[':status', '200']], true);
      expect(String(get(s.responseHeaders, 'x-note')).split('|')[0]).toBe(hex);
      s.complete();
    }
    expect(p.failed).toBe(false);
  });

  it(`owned runtime: ${LIVE} live streams keep their own fields, freed streams in between`, async () => {
    const headers = [];
    for (let i = 0; i < 8; i++) headers.push({ name: `x-owned-${i}`, value: String.fromCharCode(97 + i) });
    const p = await loadPlugin(fixtures('owned').owned, { config: { headers } });
    const live = [];
    for (let i = 0; i < LIVE; i++) {
      const s = p.newStream();
      const req: HeaderList = [[':method', 'GET'], [':path', '/'], [':authority', 'h']];
      for (let j = 0; j < i % 8; j++) req.push([`x-${j}`, 'v']);
      s.sendRequestHeaders(req, true);
      live.push({ s, n: req.length, serial: live.length + 1 + Math.floor(i / 10) });
      if (i % 10 === 0) { // a short stream in between: its context is freed at delete
        const t = p.newStream();
        t.sendRequestHeaders([[':method', 'GET'], [':path', '/'], [':authority', 'h']], true);
        t.complete();
      }
    }
    for (const k of order(LIVE)) {
      const { s, n } = live[k];
      s.sendResponseHeaders([[':status', '200']], true);
      expect(get(s.responseHeaders, `x-owned-${n % 8}`)).toBe(String.fromCharCode(97 + (n % 8)));
      s.complete();
    }
    expect(p.failed).toBe(false);
  });
});
