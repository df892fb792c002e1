// The configuration JSON reader, compared with JSON.parse: values, strings
// with escapes and non-ASCII, numbers bit for bit, and precise messages for
// syntax errors (line/column) and typed reads (paths, limits, unknown keys).
import { describe, expect, it, beforeAll } from '@jest/globals';
import { loadPlugin, type Plugin } from '@meshwasm/proxy-wasm-host';
import { fixtures } from './helpers';

let mod: WebAssembly.Module;
beforeAll(() => { mod = new WebAssembly.Module(fixtures('json').json); });

const run = (config: string, rootId: string): Promise<Plugin> => loadPlugin(mod, { config, rootId });
const msgs = (p: Plugin, level: string) => p.logs.filter((l) => l.level === level).map((l) => l.message);
/** Error lines of the filter (the host adds its own "Unable to create Wasm HTTP filter" line). */
const errors = (p: Plugin) => msgs(p, 'error').filter((m) => m.startsWith('config'));

const hexBits = (n: number) => { const b = Buffer.alloc(8); b.writeDoubleLE(n); return b.readBigUInt64LE().toString(16).padStart(16, '0'); };
const wellFormed = (s: string) => (s as unknown as { toWellFormed(): string }).toWellFormed();
function dump(v: unknown): string {
  if (v === null) return 'n';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return `#${hexBits(v)}`;
  if (typeof v === 'string') { const s = wellFormed(v); return `s${s.length}:${s}`; }
  if (Array.isArray(v)) return `[${v.map(dump).join(',')}]`;
  return `{${Object.entries(v as object).map(([k, x]) => `s${k.length}:${k}=${dump(x)}`).join(',')}}`;
}

async function dumped(text: string): Promise<string> {
  const p = await run(text, 'dump');
  expect(p.failed).toBe(false);
  expect(msgs(p, 'error')).toEqual([]);
  const line = msgs(p, 'info').find((m) => m.startsWith('dump:'));
  expect(line).toBeDefined();
  return line!.slice(5);
}

describe('valid documents read like JSON.parse', () => {
  const docs = [
    '{}', '[]', '{"a":[1,2,{"b":null}],"c":true,"d":false,"e":"x"}', ' \n\t{ "a" : [ ] , "b" : { } }\r\n ',
    '0', '-0', '1', '-1', '0.1', '0.5', '1.5e3', '1E-3', '2.5e+2', '-12.75', '123456789', '9007199254740991',
    '1e22', '1e-22', '3.14159', '2.5e-5', '0e400', '100', '0.000001',
    '"plain"', '"esc \\" \\\\ \\/ \\b \\f \\n \\r \\t end"', '"\\u00e9\\u4e2d\\u0041"', '"\\ud83d\\ude00"',
    '"raw é 中 😀"', '"\\ud800x"', '"\\udc00"', '"\\ud800\\u0041"', '"a\\nb" ', '""', '"\\u0000"',
    '"\\ud800\\ud83d\\ude00"', '"\\ud83d\\ude00\\ud83d"', '{"k\\"\\u00e9":"\\t\\u00e9\\\\","k":[true,false,null]}', '[0,-0.5e-3,1E+2]',
    JSON.stringify({ list: [{ name: 'x-a', value: 'é' }], n: 3, deep: [[[[{ k: [true, null] }]]]] }),
    '['.repeat(64) + ']'.repeat(64),
  ];
  it.each(docs)('%s', async (text) => {
    expect(await dumped(text)).toBe(dump(JSON.parse(text)));
  });

  it('decodes raw UTF-8 like TextDecoder: invalid and truncated sequences become U+FFFD (maximal subparts)', async () => {
    let seed = 12345;
    const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 16; };
    const picks = [0x41, 0x7e, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xa0, 0xed, 0x9f, 0xef, 0xf0, 0x90, 0xf4, 0x8f, 0xf5, 0xff, 0xe2, 0x82, 0xac];
    for (let n = 0; n < 60; n++) {
      const body = Array.from({ length: 1 + (rnd() % 12) }, () => picks[rnd() % picks.length]);
      const bytes = Uint8Array.from([0x22, ...body, 0x22]);
      const p = await loadPlugin(mod, { config: bytes, rootId: 'dump' });
      const want = new TextDecoder().decode(Uint8Array.from(body));
      expect(msgs(p, 'info')).toContain(`dump:s${want.length}:${want}`);
    }
  });

  it('reads an empty or blank configuration as {}', async () => {
    expect(await dumped('')).toBe('{}');
    expect(await dumped('  \n ')).toBe('{}');
  });

  it('reads large and long numbers to within a rounding error', async () => {
    for (const text of ['1e300', '1.2345e299', '123456789012345678901234567890', '4.9e-300', '0.1234567890123456789']) {
      const d = await dumped(text);
      const got = Buffer.from(d.slice(1), 'hex').reverse().readDoubleLE(0);
      expect(Math.abs(got - Number(text)) / Number(text)).toBeLessThan(1e-14);
    }
    expect(await dumped('1e400')).toBe(dump(Infinity));
  });
});

describe('random documents', () => {
  it('are accepted exactly when JSON.parse accepts them, read the same values, and never trap', async () => {
    let seed = 777;
    const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % n; };
    const atoms = ['{', '}', '[', ']', ',', ':', '"', '\\', 'u', 'd83d', 'de00', 'd800', '00e9', 'G', '1', '0', '-', '.', 'e', '+',
      ' ', '\n', 'true', 'false', 'null', 'tru', '"a"', '"b"', '\\n', '\\"', 'é', '\u0001', 'x'];
    let accepted = 0;
    for (let i = 0; i < 1500; i++) {
      let text = '';
      for (let n = 1 + rnd(12); n > 0; n--) text += atoms[rnd(atoms.length)];
      let want: string | null = null;
      try { want = dump(JSON.parse(text)); } catch { /* invalid */ }
      const p = await run(text, 'dump');
      expect(p.failed).toBe(false);
      const errs = errors(p);
      if (text.trim() === '' || errs.some((m) => m.includes('duplicate key'))) continue; // {} / refused on purpose
      if (want === null) {
        expect([text, errs.length]).toEqual([text, 1]);
      } else {
        accepted++;
        expect([text, msgs(p, 'info').find((m) => m.startsWith('dump:'))]).toEqual([text, `dump:${want}`]);
      }
    }
    expect(accepted).toBeGreaterThan(50);
  });
});

describe('syntax errors name the line, the column and the problem', () => {
  const cases: Array<[string, string]> = [
    ['{"a":1,}', 'line 1, column 8: expected \'"\' to start an object key'],
    ['{"a" 1}', 'line 1, column 6: expected \':\' after object key'],
    ['[1 2]', 'line 1, column 4: expected \',\' or \']\' in array'],
    ['{"a":1\n,\n"b":}', 'line 3, column 5: unexpected character \'}\''],
    ['"abc', 'line 1, column 5: unterminated string'],
    ['"a\\x"', 'line 1, column 4: bad escape in string'],
    ['"\\u12G4"', 'line 1, column 6: bad \\u escape'],
    ['"a\u0001"', 'line 1, column 3: control character in string'],
    ['"a\\n\u0001"', 'line 1, column 5: control character in string'],
    ['01', 'line 1, column 3: invalid number'],
    ['-', 'line 1, column 2: invalid number'],
    ['1.', 'line 1, column 3: invalid number'],
    ['1e+', 'line 1, column 4: invalid number'],
    ['tru', 'line 1, column 1: unexpected character \'t\''],
    ['{"a":1} x', 'line 1, column 9: unexpected data after the JSON value'],
    ['[', 'line 1, column 2: unexpected end of input'],
    ['{"a":', 'line 1, column 6: unexpected end of input'],
    ['['.repeat(66) + ']'.repeat(66), 'line 1, column 66: nesting deeper than 64'],
    // escaped line feeds are not lines; raw ones in white space are
    ['{"k\\n":1,\n"a\\n\\n" 1}', 'line 2, column 9: expected \':\' after object key'],
    ['[\r\n\t1,\n\n  x]', 'line 4, column 3: unexpected character \'x\''],
    ['"\\ud800\\u12G4"', 'line 1, column 12: bad \\u escape'],
    ['"\\u12', 'line 1, column 6: bad \\u escape'],
    ['"\\', 'line 1, column 3: bad escape in string'],
    ['01.5', 'line 1, column 3: invalid number'],
    ['-01', 'line 1, column 4: invalid number'],
    ['1.e5', 'line 1, column 3: invalid number'],
    ['[1e5.]', 'line 1, column 5: expected \',\' or \']\' in array'],
    ['[true,fals]', 'line 1, column 7: unexpected character \'f\''],
    ['nul', 'line 1, column 1: unexpected character \'n\''],
    ['{"a":[1,{"b":"x\\q"}]}', 'line 1, column 17: bad escape in string'],
  ];
  it.each(cases)('%j', async (text, where) => {
    const p = await run(text, 'dump');
    expect(p.configured).toBe(false);
    expect(p.failed).toBe(false);
    expect(errors(p)).toEqual([`config: invalid JSON at ${where}`]);
  });

  it('reports duplicate keys at the object that holds them', async () => {
    expect(errors(await run('{"a":1,"a":2}', 'dump'))).toEqual(['config: duplicate key "a"']);
    expect(errors(await run('{"x":[{"a":1,"a":2}]}', 'dump'))).toEqual(['config.x[0]: duplicate key "a"']);
  });

  it('reports the first error in the text, a duplicate key before a later syntax error', async () => {
    expect(errors(await run('{"a":1,"a" 2}', 'dump'))).toEqual(['config: duplicate key "a"']);
    expect(errors(await run('{"a":{"b":1,"b":2},"a":3}', 'dump'))).toEqual(['config.a: duplicate key "b"']);
    expect(errors(await run('{"a":1,"b":{"c":1},"b":{"c":1,"c":2}}', 'dump'))).toEqual(['config: duplicate key "b"']);
  });
});

describe('objects with many keys (the duplicate-key check is one hash lookup per key)', () => {
  const N = 110_000;
  const members = (n: number) => Array.from({ length: n }, (_, i) => `"k${i}":${i}`);
  const sum = (n: number) => (n * (n - 1)) / 2;

  it(`reads an object of ${N.toLocaleString('en')} keys`, async () => {
    const p = await run(`{${members(N).join(',')}}`, 'members');
    expect(errors(p)).toEqual([]);
    expect(msgs(p, 'info')).toContain(`members:${N}:k0:k${N - 1}:${sum(N)}.0`);
  });

  it('finds a duplicate among them, wherever it is', async () => {
    for (const [dup, at] of [['k0', N], [`k${N - 1}`, N >> 1], ['k54321', 3]] as const) {
      const list = members(N);
      list.splice(at, 0, `"${dup}":0`);
      expect(errors(await run(`{${list.join(',')}}`, 'members'))).toEqual([`config: duplicate key "${dup}"`]);
    }
  });

  it('takes the same key in different objects as distinct, and keys that differ by one byte too', async () => {
    const siblings = Array.from({ length: 20_000 }, (_, i) => `{"a":${i},"b":{"a":1,"b":2}}`);
    expect(errors(await run(`{"list":[${siblings.join(',')}],"a":{"a":{"a":1}}}`, 'members'))).toEqual([]);
    const near = Array.from({ length: 4096 }, (_, i) => `${JSON.stringify(String.fromCharCode(0x21 + (i >> 6), 0x21 + (i & 63)))}:1`);
    const p = await run(`{${near.join(',')}}`, 'members');
    expect(errors(p)).toEqual([]);
    expect(msgs(p, 'info').some((m) => m.startsWith('members:4096:'))).toBe(true);
  });
});

describe('typed reads', () => {
  it('read what they are asked and accept known keys', async () => {
    const p = await run(JSON.stringify({ list: [{ name: 'a' }, { name: 'b' }], n: 7, o: { flag: true }, free: { any: 1 }, tags: ['x', 'y'], ids: [3, 1.5e1, 40] }), 'read');
    expect(p.configured).toBe(true);
    expect(msgs(p, 'info')).toContain('read:a;b;|7|x,y|3,15,40#3');
  });

  it('walk an array member with optArrValue (first / next), absent reads as null', async () => {
    const empty = await run(JSON.stringify({ ids: [] }), 'read');
    expect(msgs(empty, 'info')).toContain('read:|5||#0');
    const absent = await run('{}', 'read');
    expect(msgs(absent, 'info')).toContain('read:|5||');
  });

  const cases: Array<[object | string, string]> = [
    [{ list: [{ name: 'a' }, { name: 1 }] }, 'config.list[1].name: expected string, got number'],
    [{ list: [{}] }, 'config.list[0]: missing required key "name"'],
    [{ list: [3] }, 'config.list[0]: expected object, got number'],
    [{ list: {} }, 'config.list: expected array, got object'],
    [{ n: 11 }, 'config.n: expected integer in [1, 10], got 11'],
    [{ n: -5 }, 'config.n: expected integer in [1, 10], got -5'],
    [{ n: 1.5 }, 'config.n: expected integer, got a fraction'],
    [{ n: 1e300 }, 'config.n: expected integer, got a number out of range'],
    [{ n: '3' }, 'config.n: expected integer, got string'],
    [{ o: { flag: 1 } }, 'config.o.flag: expected boolean, got number'],
    [{ o: { flag: true, x: 1 } }, 'config.o: unknown key "x"'],
    [{ list: [{ name: 'a', z: null }] }, 'config.list[0]: unknown key "z"'],
    [{ tags: ['a', 2] }, 'config.tags[1]: expected string, got number'],
    [{ ids: {} }, 'config.ids: expected array, got object'],
    [{ ids: [1, 'x'] }, 'config.ids[1]: expected integer, got string'],
    [{ ids: [1, 100] }, 'config.ids[1]: expected integer in [0, 99], got 100'],
    [{ extra: true }, 'config: unknown key "extra"'],
    ['[]', 'config: expected object, got array'],
  ];
  it.each(cases)('%j', async (config, message) => {
    const p = await run(typeof config === 'string' ? config : JSON.stringify(config), 'read');
    expect(p.configured).toBe(false);
    expect(p.failed).toBe(false);
    expect(errors(p)).toEqual([message]);
  });
});

describe('the byte path: strings and keys stay UTF-8, errors are rendered to UTF-8', () => {
  const info = (p: Plugin) => msgs(p, 'info');
  const hex = (s: string) => { const b = Buffer.from(s, 'utf8'); return `${b.length}:${b.toString('hex')}`; };

  it('bytes / optBytes / asBytes give the unescaped UTF-8, strLength counts UTF-16 units', async () => {
    const p = await run('{"b": "a\\u00e9\\ud83d\\ude00\\n\\"z", "o": "raw é"}', 'bytes');
    expect(p.configured).toBe(true);
    expect(info(p)).toEqual(expect.arrayContaining([
      `b:${hex('aé😀\n"z')}`, `o:${hex('raw é')}`, `len:${'aé😀\n"z'.length}/${'aé😀\n"z'.length}`,
    ]));
    const absent = await run('{"b": ""}', 'bytes');
    expect(info(absent)).toEqual(expect.arrayContaining(['b:0:', 'o:null', 'len:0/0', 'é:none', 'name:none']));
  });

  it('matches keys as bytes: non-ASCII keys, and keys written with escapes', async () => {
    const p = await run('{"b": "x", "\\u00e9": "acute", "n\\u0061me": "escaped"}', 'bytes');
    expect(p.configured).toBe(true);
    expect(info(p)).toEqual(expect.arrayContaining(['é:acute', 'name:escaped']));
    expect(errors(await run('{"b": "x", "\\u00e9x": 1}', 'bytes'))).toEqual(['config: unknown key "éx"']);
    expect(errors(await run('{"a": 1, "\\u0061": 2}', 'dump'))).toEqual(['config: duplicate key "a"']);
    expect(errors(await run('{"b": "x", "é": {"z": 1}}', 'bytes'))).toEqual(['config.é: expected string, got object']);
  });

  it('error() decodes what configOk logs; failWith quotes the value, fail(message, more) joins two parts', async () => {
    const p = await run('{"b": "x", "failWith": "v\\u00e9"}', 'bytes');
    expect(p.configured).toBe(false);
    expect(errors(p)).toEqual(['config.failWith: bad vé here']);
    expect(info(p)).toContain('error():config.failWith: bad vé here');
    const q = await run('{"b": "x", "fail2": [1]}', 'bytes');
    expect(errors(q)).toEqual(['config.fail2: one two']);
    expect(errors(await run('{}', 'bytes'))).toEqual(['config: missing required key "b"']);
  });

  it('an unexpected non-ASCII byte is quoted as the character U+00XX, as before', async () => {
    const p = await loadPlugin(mod, { config: Uint8Array.from([0x20, 0xc3, 0xa9]), rootId: 'dump' });
    expect(errors(p)).toEqual(['config: invalid JSON at line 1, column 2: unexpected character \'Ã\'']);
  });

  it('isHeaderName / isHeaderValue / bytesStartWith / bytesEqual work on bytes', async () => {
    const flags = async (h: string) => info(await run(JSON.stringify({ b: 'x', h }), 'bytes')).find((m) => m.startsWith('h:'));
    expect(await flags(':path')).toBe('h:NVSPE');
    expect(await flags(':PATH')).toBe('h:NVSPe');
    expect(await flags('x-a')).toBe('h:NVspe');
    expect(await flags('bad name')).toBe('h:nVspe');
    expect(await flags('é')).toBe('h:nVspe');
    expect(await flags('a\r\nb')).toBe('h:nvspe');
    expect(await flags('')).toBe('h:nVspe');
  });

  it('root_id: matched as bytes (non-ASCII too); an unknown one is named in the error line', async () => {
    const p = await run('{"b": "x"}', 'bÿtes');
    expect(p.configured).toBe(true);
    expect(info(p)).toContain('root:bÿtes');
    const q = await run('{}', 'nöpe');
    expect(q.configured).toBe(false);
    expect(msgs(q, 'error')).toContain('as-proxy-wasm: no root context registered for root_id "nöpe"');
    // "bytes" is registered twice: the first registration wins
    const r = await run('{"b": "x"}', 'bytes');
    expect(r.configured).toBe(true);
    expect(info(r)).toContain('root:bytes');
    expect(info(r)).not.toContain('late registration');
  });
});
