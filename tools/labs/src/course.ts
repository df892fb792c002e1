/**
 * The course's six labs, as the repository teaches them: which filter(s) each one uses, what it
 * shows, and the parts that are more than "run the filter through its exchanges" (Lab 4's trap
 * on demand). `meshwasm lab <n>` / `npm run lab -- <n>` run them (tools/meshwasm/src/lab.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlugin, type ExchangeResult } from '@meshwasm/proxy-wasm-host';
import { labFiles, variantWasm, type LabExchange } from './index';

export interface CourseLab {
  n: number;
  title: string;
  /** What the student sees in this lab. */
  shows: string;
  /** The filter packages it runs, student-sized version then production, each through its lab. */
  filters: string[];
  /** The Envoy config `--serve` keeps up (workspace-relative; its paths are relative to `serveCwd`). */
  serve: { envoyConfig: string; cwd: string; metadata: boolean };
}

export const COURSE: Record<number, CourseLab> = {
  1: {
    n: 1, title: 'Hello filter: a header on the request and on the response', filters: ['header'],
    shows: 'the smallest filter: x-training: envoy-wasm set in both directions',
    serve: { envoyConfig: 'envoy.yaml', cwd: 'packages/header', metadata: false },
  },
  2: {
    n: 2, title: 'Transformations: redact a body, block a host', filters: ['redact', 'blocklist'],
    shows: 'body rewriting whatever the chunking (mask in place, content-length removed) and a 451 on the :authority',
    serve: { envoyConfig: 'deploy/envoy/envoy.yaml', cwd: '.', metadata: true },
  },
  3: {
    n: 3, title: 'Callouts: enrich the request from a metadata service', filters: ['callout'],
    shows: 'dispatch_http_call, the paused request resumed by the answer, and the failure mode',
    serve: { envoyConfig: 'envoy.yaml', cwd: 'packages/callout', metadata: true },
  },
  4: {
    n: 4, title: 'Observability and safety: logs, metrics, failure policy', filters: ['callout'],
    shows: 'the filter\'s logs and metrics, then a trap on demand: fail closed (503 wasm_fail_stream), then fail open',
    serve: { envoyConfig: 'envoy.yaml', cwd: 'packages/callout', metadata: true },
  },
  5: {
    n: 5, title: 'Deploy to Istio with a WasmPlugin', filters: ['header'],
    shows: 'the 2-layer OCI artifact Istio accepts (and the course\'s 1-layer push it refuses), offline',
    serve: { envoyConfig: 'envoy.yaml', cwd: 'packages/header', metadata: false },
  },
  6: {
    n: 6, title: 'HTTP timing: duration histograms and response classes per direction', filters: ['http-timing'],
    shows: 'the course\'s metric names, defined once, recorded in on_log',
    serve: { envoyConfig: 'envoy.yaml', cwd: 'packages/http-timing', metadata: false },
  },
};

/** The lab numbers, in order. */
export const LAB_NUMBERS = Object.keys(COURSE).map(Number);

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The curl command that sends a lab exchange's request to the local proxy at `listen` (http://host:port). */
export function curlFor(ex: LabExchange, listen: string): string {
  const r = ex.request;
  const parts = ['curl', '-si'];
  if (r.method && r.method !== 'GET') parts.push('-X', r.method);
  if (r.authority && r.authority !== listen.slice('http://'.length)) parts.push('-H', shellQuote(`host: ${r.authority}`));
  for (const [k, v] of r.headers ?? []) parts.push('-H', shellQuote(`${k}: ${v}`));
  if (r.body) parts.push('--data-binary', shellQuote(r.body));
  parts.push(shellQuote(`${listen}${r.path ?? '/'}`));
  return parts.join(' ');
}

/** The request header that makes the student-sized callout trap, through its lab-only "trapOn" switch. */
export const TRAP_HEADER = 'x-lab-trap';

export interface TrapRun {
  policy: 'FAIL_CLOSED' | 'FAIL_OPEN';
  /** the request with the trap header */
  trapped: ExchangeResult;
  /** the next request, without it, on the same (now failed) VM */
  after: ExchangeResult;
  /** mismatches with what Envoy does (empty: as documented) */
  failures: string[];
}

/**
 * Lab 4's trap on demand: the student-sized callout (dist/callout.lab.wasm) configured with its lab
 * config plus `"trapOn": "x-lab-trap"`, sent a request carrying that header, then a plain one,
 * once fail closed and once fail open. Envoy's outcome: fail closed answers 503 with details
 * `wasm_fail_stream` and, the VM being dead, keeps answering 503; fail open lets both requests
 * through without the filter (no x-meta, no call).
 */
export async function trapDemo(filterDir: string): Promise<TrapRun[]> {
  const { lab, config } = labFiles(filterDir, 'student');
  const wasm = new Uint8Array(readFileSync(variantWasm(filterDir, 'student')));
  const runs: TrapRun[] = [];
  for (const policy of ['FAIL_CLOSED', 'FAIL_OPEN'] as const) {
    const plugin = await loadPlugin(wasm, {
      config: { ...(config as object), trapOn: TRAP_HEADER }, pluginName: 'callout', rootId: 'callout',
      clusters: lab.host?.clusters, failurePolicy: policy, logLevel: 'info',
    });
    const send = (trap: boolean) => plugin.exchange({
      method: 'GET', path: '/get', authority: '127.0.0.1:10000', headers: trap ? [[TRAP_HEADER, '1']] : [],
      callResponse: { status: 200, body: '{"ok":true}' }, response: { status: 200, body: 'upstream' },
    });
    const trapped = await send(true);
    const after = await send(false);
    plugin.close();
    const failures: string[] = [];
    if (!plugin.configured) failures.push('the student callout refused its lab config with "trapOn"');
    if (!trapped.failed) failures.push('the VM did not fail on the trap header');
    for (const [what, r] of [['the trapped request', trapped], ['the next request', after]] as const) {
      if (policy === 'FAIL_CLOSED') {
        if (r.response.status !== 503 || r.details !== 'wasm_fail_stream') failures.push(`${what}: expected 503 wasm_fail_stream, got ${r.response.status} ${r.details || '-'}`);
        if (r.request !== null) failures.push(`${what} reached the upstream while failing closed`);
      } else {
        if (r.request === null || r.response.status !== 200) failures.push(`${what}: expected to reach the upstream (fail open), got ${r.response.status}`);
        if (r.httpCalls.length !== 0) failures.push(`${what}: the failed filter still made a call`);
      }
    }
    runs.push({ policy, trapped, after, failures });
  }
  return runs;
}

/** The lab's filter folder. */
export function filterDir(root: string, name: string): string {
  return join(root, 'packages', name);
}
