// The filter-writing kit (test/fixtures/filterkit.ts): JsonValue.member / optChoice / choice /
// optInt, the shared text checks, percent-encoding, HttpStream's typed root, pooled contexts and
// trafficDirection, each compared with a reference written here in TypeScript.
import { describe, expect, it, beforeAll } from '@jest/globals';
import { loadPlugin, type Plugin } from '@meshwasm/proxy-wasm-host';
import { fixtures } from './helpers';

let mod: WebAssembly.Module;
beforeAll(() => { mod = new WebAssembly.Module(fixtures('filterkit').filterkit); });

const load = (rootId: string, config: object, properties: Record<string, number> = {}): Promise<Plugin> =>
  loadPlugin(mod, { rootId, config, properties });
const lines = (p: Plugin, level: string, prefix: string) =>
  p.logs.filter((l) => l.level === level && l.message.startsWith(prefix)).map((l) => l.message);

describe('JsonValue.member, optChoice, choice and optInt', () => {
  const item = { name: 'a', value: 'b' };
  it('read present members and enum strings as their index', async () => {
    const p = await load('member', { item, mode: 'outbound', style: 'flat', n: 3 });
    expect(p.configured).toBe(true);
    expect(lines(p, 'info', 'member:')).toEqual(['member:a=b|2|1|3']);
  });

  it('give the fallbacks for absent optional members', async () => {
    const p = await load('member', { item, style: 'labels' });
    expect(lines(p, 'info', 'member:')).toEqual(['member:a=b|0|0|7']);
  });

  const refused: Array<[string, object, string]> = [
    ['a missing member', { item: { value: 'b' }, style: 'flat' }, 'config.item: missing required key "name"'],
    ['a missing object', { style: 'flat' }, 'config: missing required key "item"'],
    ['a member of a non-object', { item: 3, style: 'flat' }, 'config.item: expected object, got number'],
    ['an unknown choice of three', { item, mode: 'sideways', style: 'flat' }, 'config.mode: expected "auto", "inbound" or "outbound", got "sideways"'],
    ['an unknown choice of two', { item, style: 'Flat' }, 'config.style: expected "labels" or "flat", got "Flat"'],
    ['a choice that is not a string', { item, mode: 1, style: 'flat' }, 'config.mode: expected string, got number'],
    ['a missing required choice', { item }, 'config: missing required key "style"'],
    ['a failure recorded on a member', { item: { name: 'bad', value: 'b' }, style: 'flat' }, 'config.item.name: a name that is refused'],
    ['an integer out of range', { item, style: 'flat', n: 0 }, 'config.n: expected integer in [1, 100], got 0'],
    ['a fraction', { item, style: 'flat', n: 1.5 }, 'config.n: expected integer, got a fraction'],
  ];
  it.each(refused)('refuse %s with a message naming the path', async (_what, config, message) => {
    const p = await load('member', config);
    expect(p.configured).toBe(false);
    expect(lines(p, 'error', 'config')).toEqual([message]);
  });

  it('return a Null value for a missing member: reads give fallbacks, the document keeps its first error', async () => {
    const p = await load('member', { item: { value: 'b' }, style: 'flat' });
    expect(lines(p, 'info', 'after error:')).toEqual(['after error: null=y kind=0 hasError=y']);
  });
});

// ---- references ----
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const utf8 = (s: string) => Buffer.from(s, 'utf8');
const yn = (b: boolean) => (b ? 'y' : 'n');
function firstControl(units: ArrayLike<number>, allowTab: boolean): number {
  for (let i = 0; i < units.length; i++) {
    const c = units[i];
    if ((c < 0x20 && !(allowTab && c === 9)) || c === 0x7f) return i;
  }
  return -1;
}
const codes = (s: string) => Array.from({ length: s.length }, (_, i) => s.charCodeAt(i));
function checks(t: string): string {
  const b = utf8(t);
  const name = TCHAR.test(t.startsWith(':') && t.length > 1 ? t.slice(1) : t);
  const value = !/[\0\r\n]/.test(t);
  return `checks:${yn(TCHAR.test(t))}${yn(TCHAR.test(t))}${yn(TCHAR.test(t) && t.length <= 3)}|` +
    `${firstControl(codes(t), true)},${firstControl(b, true)},${firstControl(codes(t), false)}|` +
    `${yn(firstControl(codes(t), true) >= 0)}${yn(firstControl(b, false) >= 0)}|${yn(name)}${yn(name)}${yn(value)}${yn(value)}`;
}

describe('the shared text checks, on strings and on UTF-8 bytes', () => {
  const texts = ['x-api', ':path', ':', '', 'GET', 'abcd', 'a b', 'tab\there', 'nul\u0000', 'del\u007f', 'é', 'é\u0001',
    'a\r\nb', 'x"y', 'x(y)', "!#$%&'*+-.^_`|~", '\u0100', '\u{1F600}', 'ok\u0085'];
  it('match the RFC 9110 token grammar and the C0 / DEL control set', async () => {
    const p = await load('checks', { texts });
    expect(p.configured).toBe(true);
    expect(lines(p, 'info', 'checks:')).toEqual(texts.map(checks));
  });
});

function percent(s: string, segment: boolean): string {
  const bytes = utf8(s);
  const dots = segment && bytes.length > 0 && bytes.every((c) => c === 0x2e);
  let out = '';
  for (const c of bytes) {
    const ch = String.fromCharCode(c);
    out += /[A-Za-z0-9\-._~]/.test(ch) && !(dots && c === 0x2e) ? ch : `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

describe('percentEncode and percentEncodeSegment', () => {
  const values = ['a b/c', 'plain', '', '.', '..', '...', 'a.b', '..x', 'é~_-', '%', '?#&=+', '\u0000\u00ff', '\u{1F600}'];
  it('keep unreserved characters, encode every other byte, and a value of dots alone as %2E', async () => {
    const p = await load('url', { values });
    expect(p.configured).toBe(true);
    expect(lines(p, 'info', 'url:')).toEqual(values.map((v) => {
      const all = percent(v, false), seg = percent(v, true);
      return `url:${all}|${all}|${seg}|${seg}`;
    }));
    expect(percent('..', true)).toBe('%2E%2E');
  });
});

describe('HttpStream: typed root, pooled contexts, traffic direction', () => {
  const note = (r: { request: { headers: Array<[string, string]> } | null }) => r.request!.headers.find(([k]) => k === 'x-note')?.[1];
  it('reads its root without a cast, and a pooled context takes each new stream id', async () => {
    const p = await load('stream', { tag: 't1' }, { 'xds.listener_direction': 2 });
    const notes: string[] = [];
    for (let i = 0; i < 3; i++) notes.push(note(await p.exchange({ headers: [['x-a', '1']] }))!);
    const parts = notes.map((n) => n.split('|'));
    for (const [tag, , created, requests, dir, same] of parts) {
      expect([tag, created, requests, dir, same]).toEqual(['t1', '1', '1', '2', 'y']);
    }
    const ids = parts.map((x) => Number(x[1]));
    expect(new Set(ids).size).toBe(3);
    expect(ids[1]).toBeGreaterThan(ids[0]);
    expect(ids[2]).toBeGreaterThan(ids[1]);
  });

  it.each([
    [{ 'xds.listener_direction': 1 }, '1'],
    [{ listener_direction: 2 }, '2'],
    [{ 'xds.listener_direction': 7 }, '0'],
    [{}, '0'],
  ])('trafficDirection with %j is %s', async (properties, want) => {
    const p = await load('stream', {}, properties);
    const n = note(await p.exchange({ headers: [['x-a', '1']] }))!;
    expect(n.split('|')[4]).toBe(want);
  });
});
