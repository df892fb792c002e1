// Size report of a .wasm: section sizes, the largest function bodies (by name
// when the module has a name section) and the data segments (with the UTF-16
// and UTF-8 strings found in them).
//
//   node scripts/size-report.mjs path.wasm [--top 30] [--data] [--json]
//   node scripts/size-report.mjs path/to/assembly/index.ts [--config asconfig.json] [...]
//
// Given a .ts entry, it compiles it with the release target of the config
// (default: the nearest asconfig.json, else the root asconfig.base.json) plus
// `--debug`, which keeps the function names (the code is the same as the
// release build's; only the name section is added).
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : d; };
const flag = (k) => argv.includes(k);
const input = argv.find((a, i) => !a.startsWith('--') && (i === 0 || !['--top', '--config'].includes(argv[i - 1])));
if (!input) {
  console.error('usage: node scripts/size-report.mjs <file.wasm | entry.ts> [--top N] [--data] [--json] [--config asconfig.json]');
  process.exit(2);
}

async function compile(entry) {
  const asc = (await import('assemblyscript/asc')).default;
  let config = opt('--config');
  if (!config) {
    for (let d = dirname(resolve(entry)); ; d = dirname(d)) {
      if (existsSync(join(d, 'asconfig.json'))) { config = join(d, 'asconfig.json'); break; }
      if (dirname(d) === d) break;
    }
  }
  if (!config) config = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'asconfig.base.json');
  const dir = mkdtempSync(join(tmpdir(), 'size-report-'));
  const out = join(dir, 'out.wasm');
  let err = '';
  const { error } = await asc.main([entry, '--config', config, '--target', 'release', '--debug', '--outFile', out], {
    stdout: { write: () => true },
    stderr: { write: (s) => { err += String(s); return true; } },
  });
  if (error) { console.error(`asc failed: ${error.message}\n${err}`); process.exit(1); }
  const buf = readFileSync(out);
  rmSync(dir, { recursive: true, force: true });
  return buf;
}

const buf = input.endsWith('.wasm') ? readFileSync(input) : await compile(input);

let p = 8;
const leb = () => { let r = 0, s = 0, b; do { b = buf[p++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return r; };
const str = () => { const n = leb(); const s = buf.subarray(p, p + n).toString(); p += n; return s; };
const SECTION = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'datacount'];
const sections = [];
while (p < buf.length) {
  const id = buf[p++]; const size = leb(); const start = p;
  let name = SECTION[id] ?? `id${id}`;
  if (id === 0) { name = `custom:${str()}`; }
  sections.push({ id, name, start, size, total: p - start + size });
  p = start + size;
}

// imported functions come first in the function index space
let nImportedFns = 0;
const imp = sections.find((s) => s.id === 2);
if (imp) {
  p = imp.start; const n = leb();
  for (let i = 0; i < n; i++) {
    str(); str(); const kind = buf[p++];
    if (kind === 0) { leb(); nImportedFns++; }
    else if (kind === 1) { p++; const f = leb(); leb(); if (f & 1) leb(); }
    else if (kind === 2) { const f = leb(); leb(); if (f & 1) leb(); }
    else if (kind === 3) { p++; p++; }
  }
}

const names = new Map();
const nameSec = sections.find((s) => s.name === 'custom:name');
if (nameSec) {
  p = nameSec.start; str();
  while (p < nameSec.start + nameSec.size) {
    const sub = buf[p++]; const ss = leb(); const end = p + ss;
    if (sub === 1) { const c = leb(); for (let i = 0; i < c; i++) { const idx = leb(); names.set(idx, str()); } }
    p = end;
  }
}

const fns = [];
const code = sections.find((s) => s.id === 10);
if (code) {
  p = code.start; const n = leb();
  for (let i = 0; i < n; i++) { const sz = leb(); const idx = i + nImportedFns; fns.push({ name: names.get(idx) ?? `f${idx}`, size: sz }); p += sz; }
}
fns.sort((a, b) => b.size - a.size);

// data segments: find UTF-16 (AssemblyScript string literals) and UTF-8 runs
const segments = [];
const data = sections.find((s) => s.id === 11);
if (data) {
  p = data.start; const n = leb();
  for (let i = 0; i < n; i++) {
    const flags = leb(); let offset = null;
    if (flags === 0 || flags === 2) {
      if (flags === 2) leb();
      const op = buf[p++];
      if (op === 0x41) { offset = leb(); } else { while (buf[p] !== 0x0b) p++; }
      p++; // end
    }
    const len = leb(); segments.push({ offset, size: len, bytes: buf.subarray(p, p + len) }); p += len;
  }
}
// a module packed by assembly/transform.mjs has one segment of runs, unpacked at _initialize
function unpackRuns(runs) {
  const out = [];
  for (let q = 0; q < runs.length;) {
    const c = runs[q++];
    if (c < 0x40) { for (let k = 0; k <= c; k++) out.push(runs[q++]); }
    else if (c < 0x80) { for (let k = 0; k <= (c & 63); k++) out.push(0); }
    else if (c < 0xc0) { for (let k = 0; k <= (c & 63); k++) out.push(runs[q++], 0); }
    else { const from = out.length - (runs[q] | (runs[q + 1] << 8)); q += 2; for (let k = 0; k <= (c & 63); k++) out.push(out[from + k]); }
  }
  return Uint8Array.from(out);
}
const packed = segments.length === 1 && sections.some((s) => s.name === 'export') ? unpackRuns(segments[0].bytes) : null;
function strings(bytes) {
  const out = [];
  // UTF-16LE printable runs of >= 3 chars
  for (let i = 0; i + 1 < bytes.length;) {
    let j = i; let s = '';
    while (j + 1 < bytes.length && bytes[j + 1] === 0 && bytes[j] >= 0x20 && bytes[j] < 0x7f) { s += String.fromCharCode(bytes[j]); j += 2; }
    if (s.length >= 3) { out.push({ enc: 'utf16', text: s, bytes: j - i }); i = j; } else i += s.length ? j - i : 1;
  }
  return out;
}

const report = {
  bytes: buf.length,
  sections: sections.map(({ name, total }) => ({ name, bytes: total })),
  functions: fns.length,
  top: fns.slice(0, Number(opt('--top', 30))),
  data: { segments: segments.length, bytes: segments.reduce((a, s) => a + s.size, 0) },
  strings: packed ? strings(packed) : segments.flatMap((s) => strings(s.bytes)),
  unpacked: packed ? packed.length : undefined,
};

if (flag('--json')) { console.log(JSON.stringify(report, null, 2)); process.exit(0); }
console.log(`${input}: ${report.bytes} bytes, ${report.functions} functions${nameSec ? '' : ' (no name section: build with --debug or pass the .ts entry)'}`);
console.log('\nsections');
for (const s of report.sections) console.log(`${String(s.bytes).padStart(8)}  ${s.name}`);
console.log(`\nlargest function bodies (top ${report.top.length})`);
for (const f of report.top) console.log(`${String(f.size).padStart(8)}  ${f.name}`);
const utf16 = report.strings.reduce((a, s) => a + s.bytes, 0);
console.log(`\ndata: ${report.data.segments} segments, ${report.data.bytes} bytes` + (packed
  ? ` (packed; unpacked ${packed.length} bytes with ${utf16} bytes in ${report.strings.length} UTF-16 strings)`
  : ` (${utf16} bytes in ${report.strings.length} UTF-16 strings)`));
if (flag('--data')) for (const s of report.strings.sort((a, b) => b.bytes - a.bytes)) console.log(`${String(s.bytes).padStart(8)}  ${JSON.stringify(s.text)}`);
