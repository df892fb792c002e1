/**
 * Course labs as data: every filter ships `examples/lab.json` (its pluginConfig) and
 * `examples/lab.exchanges.json` (the requests the lab sends, and what must happen). This module
 * runs them through the proxy-wasm host and compares the outcome with the expectation, so the
 * main job (`npm start`) and each filter's tests tell the same story.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadPlugin, type ExchangeResult } from '@meshwasm/proxy-wasm-host';

export type HeaderPairs = Array<[string, string]>;

export interface LabSide {
  /** header name -> expected first value; `null` means the header must be absent */
  headers?: Record<string, string | null>;
  /** header name -> exact number of entries */
  headerCount?: Record<string, number>;
  body?: string;
  status?: number;
}

export interface LabExpect {
  /** what reached the upstream; `null` means the request must never reach it */
  upstream?: LabSide | null;
  /** what the client received */
  client?: LabSide;
  /** custom metrics after the exchange: a number, or {count, sum} for histograms */
  metrics?: Record<string, number | { count?: number; sum?: number }>;
  /** true when the filter (not the upstream) must have answered */
  localReply?: boolean;
  /** number of http calls the filter dispatched */
  httpCalls?: number;
}

export interface LabExchange {
  title: string;
  request: {
    method?: string;
    path?: string;
    authority?: string;
    scheme?: string;
    headers?: HeaderPairs;
    body?: string;
    chunkSize?: number;
  };
  response?: { status?: number; headers?: HeaderPairs; body?: string; chunkSize?: number };
  callResponse?: { status: number; body?: string; headers?: HeaderPairs } | 'reset' | 'timeout';
  properties?: Record<string, unknown>;
  expect: LabExpect;
}

/** The parts of an expectation the student-sized version (assembly/lab.ts) is not asked to meet. */
export type StudentSkip = 'metrics';
export const STUDENT_SKIPS: readonly StudentSkip[] = ['metrics'];

export interface LabFile {
  lab: string;
  /**
   * How the student-sized version (assembly/lab.ts, dist/<name>.lab.wasm) differs in this lab:
   * `skip` lists the expectations it is not asked to meet, `why` says why (the lab page says so).
   */
  student?: { skip?: StudentSkip[]; why?: string };
  /** host settings the lab needs, e.g. the clusters known to Envoy */
  host?: { clusters?: string[]; properties?: Record<string, unknown>; failurePolicy?: 'FAIL_CLOSED' | 'FAIL_OPEN' };
  exchanges: LabExchange[];
}

export interface LabExchangeReport {
  title: string;
  result: ExchangeResult;
  failures: string[];
}

/** Which build of a filter a lab runs: the released filter, or the course's student-sized version. */
export type LabVariant = 'production' | 'student';

export interface LabReport {
  name: string;
  lab: string;
  variant: LabVariant;
  /** Expectations not checked for this variant (the student version's documented differences). */
  skipped: StudentSkip[];
  wasmPath: string;
  wasmBytes: number;
  config: unknown;
  configured: boolean;
  results: LabExchangeReport[];
}

/** The built wasm of a variant: dist/<name>.wasm, or dist/<name>.lab.wasm for the student version. */
export function variantWasm(filterDir: string, variant: LabVariant = 'production'): string {
  const name = basename(filterDir);
  return join(filterDir, 'dist', variant === 'student' ? `${name}.lab.wasm` : `${name}.wasm`);
}

export function labFiles(filterDir: string, variant: LabVariant = 'production'): { name: string; wasmPath: string; config: unknown; lab: LabFile } {
  const name = basename(filterDir);
  const wasmPath = variantWasm(filterDir, variant);
  const target = variant === 'student' ? 'build-lab' : 'build';
  const configPath = join(filterDir, 'examples', 'lab.json');
  const labPath = join(filterDir, 'examples', 'lab.exchanges.json');
  for (const p of [wasmPath, configPath, labPath]) {
    if (!existsSync(p)) throw new Error(`${name}: missing ${p}${p === wasmPath ? ' (run `npx nx run ' + name + ':' + target + '`)' : ''}`);
  }
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as unknown;
  const lab = JSON.parse(readFileSync(labPath, 'utf8')) as LabFile;
  if (!Array.isArray(lab.exchanges) || lab.exchanges.length === 0) throw new Error(`${labPath}: no exchanges`);
  const unknown = (lab.student?.skip ?? []).find((k) => !STUDENT_SKIPS.includes(k));
  if (unknown !== undefined) throw new Error(`${labPath}: student.skip: "${unknown}" cannot be skipped (only ${STUDENT_SKIPS.join(', ')})`);
  if (lab.student?.skip?.length && !lab.student.why) throw new Error(`${labPath}: student.skip needs a "why" (the lab page says it)`);
  return { name, wasmPath, config, lab };
}

function firstValue(headers: HeaderPairs, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of headers) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function countOf(headers: HeaderPairs, name: string): number {
  const lower = name.toLowerCase();
  let n = 0;
  for (const [k] of headers) if (k.toLowerCase() === lower) n++;
  return n;
}

function checkSide(where: string, want: LabSide, got: { headers: HeaderPairs; body: string; status?: number }): string[] {
  const out: string[] = [];
  if (want.status !== undefined && got.status !== want.status) out.push(`${where} status: expected ${want.status}, got ${got.status}`);
  for (const [k, v] of Object.entries(want.headers ?? {})) {
    const actual = firstValue(got.headers, k);
    if (v === null) {
      if (actual !== undefined) out.push(`${where} header ${k}: expected absent, got ${JSON.stringify(actual)}`);
    } else if (actual !== v) {
      out.push(`${where} header ${k}: expected ${JSON.stringify(v)}, got ${actual === undefined ? 'absent' : JSON.stringify(actual)}`);
    }
  }
  for (const [k, n] of Object.entries(want.headerCount ?? {})) {
    const c = countOf(got.headers, k);
    if (c !== n) out.push(`${where} header ${k}: expected ${n} entr${n === 1 ? 'y' : 'ies'}, got ${c}`);
  }
  if (want.body !== undefined && got.body !== want.body) {
    out.push(`${where} body: expected ${JSON.stringify(want.body)}, got ${JSON.stringify(got.body)}`);
  }
  return out;
}

/** Compares one exchange's outcome with its expectation; returns human-readable mismatches. */
export function checkExchange(expect: LabExpect, result: ExchangeResult): string[] {
  const out: string[] = [];
  if (result.failed) out.push('the VM failed (trap) during the exchange');
  if (expect.upstream === null) {
    if (result.request !== null) out.push('the request reached the upstream, but the lab expects it to be stopped');
  } else if (expect.upstream !== undefined) {
    if (result.request === null) out.push('the request never reached the upstream');
    else out.push(...checkSide('upstream', expect.upstream, result.request));
  }
  if (expect.client) out.push(...checkSide('client', expect.client, result.response));
  if (expect.localReply !== undefined && (result.localReply !== null) !== expect.localReply) {
    out.push(expect.localReply ? 'expected a local reply from the filter, got none' : `unexpected local reply ${result.localReply?.status}`);
  }
  if (expect.httpCalls !== undefined && result.httpCalls.length !== expect.httpCalls) {
    out.push(`expected ${expect.httpCalls} http call(s), got ${result.httpCalls.length}`);
  }
  for (const [name, want] of Object.entries(expect.metrics ?? {})) {
    const got = result.metrics[name];
    if (typeof want === 'number') {
      if (got !== want) out.push(`metric ${name}: expected ${want}, got ${JSON.stringify(got)}`);
    } else {
      const g = got as { count?: number; sum?: number } | undefined;
      if (g === undefined || typeof g !== 'object') out.push(`metric ${name}: expected a histogram, got ${JSON.stringify(got)}`);
      else {
        if (want.count !== undefined && g.count !== want.count) out.push(`metric ${name}: expected count ${want.count}, got ${g.count}`);
        if (want.sum !== undefined && g.sum !== want.sum) out.push(`metric ${name}: expected sum ${want.sum}, got ${g.sum}`);
      }
    }
  }
  return out;
}

export interface RunLabOptions {
  /** `student`: dist/<name>.lab.wasm, with the expectations listed in the lab's `student.skip` left out. */
  variant?: LabVariant;
}

/** Runs every exchange of a filter's lab, each on a freshly configured plugin. */
export async function runLab(filterDir: string, opts: RunLabOptions = {}): Promise<LabReport> {
  const variant = opts.variant ?? 'production';
  const { name, wasmPath, config, lab } = labFiles(filterDir, variant);
  const skipped = variant === 'student' ? [...(lab.student?.skip ?? [])] : [];
  const wasm = new Uint8Array(readFileSync(wasmPath));
  const results: LabExchangeReport[] = [];
  let configured = true;
  for (const ex of lab.exchanges) {
    const plugin = await loadPlugin(wasm, {
      config: config as object,
      pluginName: name,
      rootId: name,
      clusters: lab.host?.clusters,
      properties: lab.host?.properties as never,
      failurePolicy: lab.host?.failurePolicy,
      logLevel: 'info',
    });
    const expect: LabExpect = { ...ex.expect };
    for (const k of skipped) delete expect[k];
    configured &&= plugin.configured;
    const result = await plugin.exchange({
      ...ex.request,
      response: ex.response,
      callResponse: ex.callResponse,
      properties: ex.properties as never,
    } as never);
    const failures = plugin.configured ? checkExchange(expect, result) : ['the plugin refused examples/lab.json at on_configure'];
    results.push({ title: ex.title, result, failures });
    plugin.close();
  }
  return { name, lab: lab.lab, variant, skipped, wasmPath, wasmBytes: statSync(wasmPath).size, config, configured, results };
}

function headerLines(prefix: string, headers: HeaderPairs): string[] {
  return headers.map(([k, v]) => `${prefix}${k}: ${v}`);
}

/** A readable account of what the filter did in each exchange. */
export function formatLabReport(r: LabReport, opts: { verbose?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(`${r.name} — ${r.lab}  (dist/${basename(r.wasmPath)}, ${r.wasmBytes} bytes, config examples/lab.json)`);
  if (r.skipped.length) lines.push(`  (student version: ${r.skipped.join(', ')} not checked)`);
  for (const x of r.results) {
    const res = x.result;
    lines.push(`  • ${x.title}`);
    if (res.request) {
      lines.push(`      → upstream received ${res.request.headers.length} headers${res.request.body ? `, body ${JSON.stringify(clip(res.request.body))}` : ''}`);
      if (opts.verbose) lines.push(...headerLines('          ', res.request.headers));
    } else {
      lines.push('      → the request never reached the upstream');
    }
    lines.push(`      ← client received ${res.response.status}${res.localReply ? ` (local reply from the filter, details ${res.localReply.details || '-'})` : ''}${res.response.body ? `, body ${JSON.stringify(clip(res.response.body))}` : ''}`);
    if (opts.verbose) lines.push(...headerLines('          ', res.response.headers));
    for (const c of res.httpCalls) lines.push(`      ⇢ http call to cluster ${c.cluster} (${c.headers.find(([k]) => k === ':path')?.[1] ?? ''}), timeout ${c.timeoutMs} ms`);
    // Only the metrics this exchange moved (a filter may define many at configure time).
    const metricNames = Object.keys(res.metrics).filter((m) => {
      const v = res.metrics[m];
      return typeof v === 'number' ? v !== 0 : (v as { count?: number }).count !== 0;
    });
    if (metricNames.length) lines.push(`      # metrics: ${metricNames.map((m) => `${m}=${JSON.stringify(res.metrics[m])}`).join(', ')}`);
    for (const l of res.logs.filter((l) => l.level !== 'trace' && l.level !== 'debug').slice(0, 6)) lines.push(`      [${l.level}] ${clip(l.message, 160)}`);
    lines.push(x.failures.length ? `      ✗ NOT as the lab expects:\n${x.failures.map((f) => `          - ${f}`).join('\n')}` : '      ✓ as the lab expects');
  }
  return lines.join('\n');
}

function clip(s: string, n = 80): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
