/**
 * One fuzz run of one filter: random configs (each checked against the schema's verdict), then
 * seeded random exchanges with the invariants. A failure is shrunk to a small exchange that still
 * fails on a fresh VM and reported with the seed.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPlugin, type Plugin } from '@meshwasm/proxy-wasm-host';
import { Rng } from './rng';
import { exchange, body, chunks, largestCallAnswer, byteLength, fromSpecBytes, toSpecBytes, MAX_BODY, type ExchangeSpec, type BodyKind } from './gen';
import { compileSchema, randomConfig } from './configs';
import { drive, type Outcome } from './driver';
import { configVerdict, memoryFlat, noTrap, notHung } from './invariants';
import type { Planted, Profile } from './profiles';

export interface FuzzOptions {
  name: string;
  wasm: WebAssembly.Module;
  schema: Record<string, unknown>;
  lab: unknown;
  seed: number;
  exchanges: number;
  configs: number;
  profile?: Profile;
  /** How many of the first exchanges carry the largest inputs (default 16). */
  extremes?: number;
  /** After the run, how many of its first exchanges are replayed (up to 4 passes, until one pass
   *  leaves memory as it was) to check that memory stops growing (default: an eighth of the run). */
  replay?: number;
  /** Run only this exchange of the seed (on a fresh VM, no configs, no memory check). */
  only?: number;
  /** Progress and counts (default: none). */
  print?: (line: string) => void;
}

export interface Failure {
  invariant: 'no trap' | 'memory flat' | 'bad config refused' | 'filter' | 'not hung';
  message: string;
  seed: number;
  /** Which exchange (or config) of the run. */
  index: number;
  /** The smallest exchange (or the config) that still fails, as JSON. */
  reproduction: unknown;
  /** Shrinking ran on a fresh VM: false when only the run's history reproduces it. */
  standalone: boolean;
}

export interface Counts {
  exchanges: number;
  planted: Record<string, number>;
  configs: { accepted: number; refused: number; byOrigin: Record<string, number> };
  callAnswers: Record<string, number>;
  bodyBytes: number;
  largestBody: number;
  memory: Array<{ afterRun: number; end: number }>;
  /** Linear memory after the run, then after each replay pass. */
  memoryPasses: number[];
  /** Exchanges replayed per pass after the run (memory check). */
  replayed: number;
  /** [exchange, bytes] each time linear memory grew during the run. */
  memoryGrowth: Array<[number, number]>;
  ms: { configs: number; exchanges: number };
}

export interface Report { name: string; seed: number; counts: Counts; failures: Failure[] }

const inc = (m: Record<string, number>, k: string, n = 1) => { m[k] = (m[k] ?? 0) + n; };

/** Plugin error-level lines (not the host's own "Unable to create" line). */
async function load(mod: WebAssembly.Module, config: string | object, name: string): Promise<{ p: Plugin; errors: string[] }> {
  const errors: string[] = [];
  const p = await loadPlugin(mod, {
    config: typeof config === 'string' ? new TextEncoder().encode(config) : config, pluginName: name, rootId: name, logLevel: 'info',
    logSink: (line, e) => { if ((e.level === 'error' || e.level === 'critical') && line.includes('] wasm log')) errors.push(e.message); },
  });
  return { p, errors };
}

type Check = (o: Outcome, p: Plugin) => [Failure['invariant'], string] | null;

function checksFor(profile: Profile | undefined, planted: Planted | null): Check {
  return (o, p) => {
    const t = noTrap(p);
    if (t) return ['no trap', t];
    const h = notHung(o);
    if (h) return ['not hung', h];
    if (planted && profile?.check) { const f = profile.check(o, planted); if (f) return ['filter', f]; }
    return null;
  };
}

/** Smaller versions of an exchange, most promising first. */
function* smaller(s: ExchangeSpec): Generator<ExchangeSpec> {
  const halves = (b: ExchangeSpec['body']) => {
    const bytes = fromSpecBytes(b);
    if (typeof b === 'string') return [b.slice(0, b.length >> 1), b.slice(b.length >> 1)];
    return [toSpecBytes(bytes.subarray(0, bytes.length >> 1)), toSpecBytes(bytes.subarray(bytes.length >> 1))];
  };
  if (s.chunks.length > 1) yield { ...s, chunks: [byteLength(s.body)] };
  if (s.response.chunks.length > 1) yield { ...s, response: { ...s.response, chunks: [byteLength(s.response.body)] } };
  if (byteLength(s.response.body)) {
    yield { ...s, response: { ...s.response, body: '', chunks: [] } };
    for (const h of halves(s.response.body)) yield { ...s, response: { ...s.response, body: h, chunks: [byteLength(h)] } };
  }
  if (byteLength(s.body)) {
    yield { ...s, body: '', chunks: [] };
    for (const h of halves(s.body)) yield { ...s, body: h, chunks: s.chunks.length > 1 ? s.chunks.filter((_, i) => i < 3).map((c) => Math.min(c, byteLength(h))).filter((c) => c > 0) : [byteLength(h)] };
  }
  for (let i = 0; i < s.headers.length; i++) yield { ...s, headers: s.headers.filter((_, j) => j !== i) };
  for (let i = 0; i < s.response.headers.length; i++) yield { ...s, response: { ...s.response, headers: s.response.headers.filter((_, j) => j !== i) } };
  if (s.calls.length > 1) yield { ...s, calls: s.calls.slice(0, -1) };
  for (let i = 0; i < s.calls.length; i++) {
    const c = s.calls[i];
    if (c.delay) yield { ...s, calls: s.calls.map((x, j) => (j === i ? { ...x, delay: 0 } : x)) };
    if (c.kind === 'answer' && c.body && byteLength(c.body) > 1) for (const h of halves(c.body)) yield { ...s, calls: s.calls.map((x, j) => (j === i ? { ...x, body: h } : x)) };
    if (c.headers?.length) yield { ...s, calls: s.calls.map((x, j) => (j === i ? { ...x, headers: [] } : x)) };
  }
}

/** The chunk sizes must cover the body exactly. */
function fixChunks(s: ExchangeSpec): ExchangeSpec {
  const fit = (cs: number[], len: number) => { const sum = cs.reduce((a, b) => a + b, 0); return sum === len ? cs : len ? [...cs.filter((c) => c > 0 && c <= len).slice(0, 1), len - Math.min(len, cs.find((c) => c > 0 && c <= len) ?? len)].filter((c) => c > 0) : []; };
  return { ...s, chunks: fit(s.chunks, byteLength(s.body)), response: { ...s.response, chunks: fit(s.response.chunks, byteLength(s.response.body)) } };
}

async function shrink(mod: WebAssembly.Module, name: string, config: unknown, spec: ExchangeSpec, check: Check, inv: string): Promise<{ spec: ExchangeSpec; standalone: boolean }> {
  const fails = async (s: ExchangeSpec) => {
    const { p } = await load(mod, config as object, name);
    try { const f = check(await drive(p, s), p); return f !== null && f[0] === inv; } finally { p.close(); }
  };
  if (!(await fails(spec))) return { spec, standalone: false };
  let cur = spec;
  for (let budget = 300; budget > 0;) {
    let progressed = false;
    for (const c of smaller(cur)) {
      if (--budget <= 0) break;
      const cand = fixChunks(c);
      if (await fails(cand)) { cur = cand; progressed = true; break; }
    }
    if (!progressed) break;
  }
  return { spec: cur, standalone: true };
}

/** A reproduction printed inline when small, else written to a file named in the message. */
export function showReproduction(r: unknown): string {
  const j = JSON.stringify(r);
  if (j.length <= 4000) return j;
  const dir = mkdtempSync(join(tmpdir(), 'meshwasm-fuzz-'));
  const f = join(dir, 'reproduction.json');
  writeFileSync(f, JSON.stringify(r, null, 1));
  return `${j.slice(0, 300)}… (${j.length} characters, whole in ${f})`;
}

/** The first exchanges of a run: the largest bodies and http call answers of every kind, both ways. */
const WARM_UP_EXTREMES = 16;
/** Replays of the run's first exchanges before memory that keeps growing is a failure. */
const REPLAY_PASSES = 4;
function warmUpSpec(rng: Rng, i: number): ExchangeSpec {
  const s = exchange(rng);
  const kinds: BodyKind[] = ['text', 'json', 'form', 'binary'];
  const kind = kinds[i % 4];
  const ct = { text: 'text/plain', json: 'application/json', form: 'application/x-www-form-urlencoded', binary: 'application/octet-stream' }[kind];
  const b = body(rng, kind, MAX_BODY);
  const rb = body(rng, kind, MAX_BODY);
  const strip = (l: ExchangeSpec['headers']) => l.filter(([k]) => k !== 'content-type' && k !== 'content-encoding');
  return { ...s, method: 'POST', headers: [...strip(s.headers), ['content-type', ct]], body: b, chunks: chunks(rng, byteLength(b)), calls: [largestCallAnswer(rng, i)],
    response: { status: 200, headers: [...strip(s.response.headers), ['content-type', ct]], body: rb, chunks: chunks(rng, byteLength(rb)) } };
}

export async function fuzzFilter(o: FuzzOptions): Promise<Report> {
  const print = o.print ?? (() => {});
  const root = new Rng(o.seed);
  const failures: Failure[] = [];
  const counts: Counts = { exchanges: 0, planted: {}, configs: { accepted: 0, refused: 0, byOrigin: {} }, callAnswers: {}, bodyBytes: 0, largestBody: 0, memory: [], memoryGrowth: [], memoryPasses: [], replayed: 0, ms: { configs: 0, exchanges: 0 } };
  const seen = new Set<string>();
  const fail = (f: Failure) => { if (seen.has(f.invariant)) return; seen.add(f.invariant); failures.push(f); };

  // ---- configs
  const validate = compileSchema(o.schema);
  let t0 = Date.now();
  for (let i = 0; i < (o.only !== undefined ? 0 : o.configs); i++) {
    const rng = root.fork(0x40000000 + i);
    const cc = randomConfig(rng, o.schema, o.lab, validate);
    inc(counts.configs.byOrigin, `${cc.origin}/${cc.valid ? 'valid' : 'invalid'}`);
    const { p, errors } = await load(o.wasm, cc.text, o.name);
    try {
      if (p.configured) counts.configs.accepted++; else counts.configs.refused++;
      const v = configVerdict(cc.valid, p.configured, p.failed, errors, o.profile?.beyondSchema);
      if (v) { fail({ invariant: cc.valid || p.failed ? (p.failed ? 'no trap' : 'bad config refused') : 'bad config refused', message: v + (cc.why ? ` (schema: ${cc.why})` : ''), seed: o.seed, index: i, reproduction: { config: cc.text }, standalone: true }); continue; }
      if (p.configured) {
        // one random exchange under this config: generic invariants only
        const spec = exchange(rng);
        const out = await drive(p, spec);
        const f = checksFor(undefined, null)(out, p);
        if (f) fail({ invariant: f[0], message: f[1], seed: o.seed, index: i, reproduction: { config: cc.text, exchange: spec }, standalone: false });
      }
    } finally { p.close(); }
  }
  counts.ms.configs = Date.now() - t0;

  // ---- exchanges
  t0 = Date.now();
  const config = o.profile?.config ?? o.lab;
  const { p } = await load(o.wasm, config as object, o.name);
  if (!p.configured) {
    fail({ invariant: 'bad config refused', message: `the fuzz config was refused: ${p.logs.map((l) => l.message).join(' | ')}`, seed: o.seed, index: -1, reproduction: { config }, standalone: true });
    p.close();
    return { name: o.name, seed: o.seed, counts, failures };
  }
  // exchange i of the run depends only on (seed, i): the replay below regenerates the same ones
  const specFor = (i: number): { spec: ExchangeSpec; planted: Planted | null } => {
    const rng = root.fork(i);
    const spec = i < (o.extremes ?? WARM_UP_EXTREMES) ? warmUpSpec(rng, i) : exchange(rng);
    if (o.profile?.plant && rng.chance(0.75)) { const planted = o.profile.plant(rng, spec); return { spec: planted.spec, planted }; }
    return { spec, planted: null };
  };
  let lastMem = p.memoryBytes();
  const first = o.only ?? 0;
  const end = o.only !== undefined ? o.only + 1 : o.exchanges;
  for (let i = first; i < end; i++) {
    const { spec, planted } = specFor(i);
    if (planted) inc(counts.planted, o.profile?.counts?.(planted) ?? 'planted');
    for (const c of spec.calls) inc(counts.callAnswers, c.kind);
    counts.bodyBytes += byteLength(spec.body) + byteLength(spec.response.body);
    counts.largestBody = Math.max(counts.largestBody, byteLength(spec.body), byteLength(spec.response.body));
    const out = await drive(p, spec);
    counts.exchanges++;
    const check = checksFor(o.profile, planted);
    const f = check(out, p);
    if (f) {
      const { spec: small, standalone } = await shrink(o.wasm, o.name, config, spec, check, f[0]);
      fail({ invariant: f[0], message: f[1], seed: o.seed, index: i, reproduction: { config, exchange: small, ...(planted ? { planted: planted.note } : {}) }, standalone });
      if (p.failed) break; // a trapped VM answers nothing more
    }
    const mem = p.memoryBytes();
    if (mem > lastMem) { counts.memoryGrowth.push([i, mem]); lastMem = mem; }
    if ((i + 1) % 10000 === 0) print(`  ${o.name}: ${i + 1} exchanges`);
  }
  // Memory: the whole run is the warm-up (AssemblyScript's heap grows to a high-water mark set by
  // the inputs; its non-moving allocator and incremental GC may need a page more for the same
  // inputs met in another heap state). Then the run's first exchanges are replayed, pass after
  // pass: memory has stopped growing when one whole pass leaves it as it was. A leak grows it on
  // every pass.
  const afterRun = p.memoryBytes();
  const replay = o.only !== undefined || p.failed ? 0 : Math.min(o.exchanges, o.replay ?? Math.ceil(o.exchanges / 8));
  const passes: number[] = [afterRun];
  let flat = replay === 0;
  for (let pass = 0; pass < REPLAY_PASSES && !flat; pass++) {
    const before = p.memoryBytes();
    for (let i = 0; i < replay; i++) await drive(p, specFor(i).spec);
    passes.push(p.memoryBytes());
    flat = p.memoryBytes() === before;
  }
  if (!flat) {
    const m = memoryFlat(passes[1], passes[passes.length - 1])!;
    fail({ invariant: 'memory flat', message: `${m}: it grew on each of ${REPLAY_PASSES} replays of the run's first ${replay} exchanges (${passes.join(' -> ')} bytes)`, seed: o.seed, index: 0, reproduction: { config, replayed: replay, exchange0: specFor(0).spec }, standalone: false });
  }
  counts.memoryPasses = passes;
  counts.replayed = replay;
  counts.memory.push({ afterRun, end: p.memoryBytes() });
  p.close();
  counts.ms.exchanges = Date.now() - t0;
  return { name: o.name, seed: o.seed, counts, failures };
}

export function formatFailure(f: Failure, name: string): string {
  const how = f.invariant === 'bad config refused' || (f.reproduction as { config?: unknown }).config !== undefined && !(f.reproduction as { exchange?: unknown }).exchange
    ? `config ${f.index}` : `exchange ${f.index}`;
  return [
    `✗ ${name}: invariant "${f.invariant}" broken: ${f.message}`,
    `  seed ${f.seed}, ${how}; rerun: npm run fuzz -- --seed ${f.seed} (or: npx nx run ${name}:fuzz --seed ${f.seed})`,
    `  ${f.standalone ? 'minimal reproduction (fails on a fresh VM)' : 'reproduction (fails after the run\'s earlier exchanges)'}: ${showReproduction(f.reproduction)}`,
  ].join('\n');
}
