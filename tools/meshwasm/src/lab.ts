/**
 * `meshwasm lab <n>` (and `npm run lab -- <n>`): the course's lab n on this machine. It builds the
 * lab's filter(s) in both versions (nx: build-lab, build; cached), runs the student-sized version
 * (assembly/lab.ts) and then the production filter through the lab's exchanges, adds what the lab
 * is about beyond them (Lab 4: a trap on demand, fail closed then fail open; Lab 5: the OCI
 * artifact Istio accepts and the ones it refuses, offline), prints the curl commands to try, and
 * fails when anything differs from the documented outcome. `--serve` then keeps the local proxy up.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { COURSE, LAB_NUMBERS, TRAP_HEADER, curlFor, filterDir, trapDemo, type CourseLab } from '@meshwasm/labs/course';
import { formatLabReport, labFiles, runLab, type LabReport } from '@meshwasm/labs';
import { checkIstioAcceptance, digestOf, MediaType, IstioRejection } from '@meshwasm/oras';
import { packageFilter } from '@meshwasm/release';
import { validateIstioDocs } from '@meshwasm/validate';
import { spawnServe } from '@meshwasm/proxy-wasm-host';
import { failure, runNx, usageError, type Workspace } from './context';

export interface LabOptions {
  lab: string | undefined;
  serve: boolean;
  build: boolean;
}

const LISTEN = 'http://127.0.0.1:10000';
const ADMIN = 'http://127.0.0.1:9901';

/** Lab n, or a usage error naming the labs. */
export function courseLab(arg: string | undefined): CourseLab {
  const list = LAB_NUMBERS.map((n) => `${n} ${COURSE[n].title.split(':')[0].toLowerCase()}`).join(', ');
  if (arg === undefined) throw usageError(`name a lab: ${list}`);
  if (!/^\d+$/.test(arg) || COURSE[Number(arg)] === undefined) throw usageError(`no lab "${arg}": the labs are ${list}`);
  return COURSE[Number(arg)];
}

function failuresOf(r: LabReport): number {
  return r.results.filter((x) => x.failures.length > 0).length + (r.configured ? 0 : 1);
}

/** Lab 5 without a registry: the artifact in a temporary OCI layout, and what Istio accepts and refuses. */
async function deployOffline(ws: Workspace, name: string, out: (l: string) => void): Promise<string[]> {
  const problems: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'meshwasm-lab5-'));
  try {
    const p = await packageFilter(ws.root, filterDir(ws.root, name), { outDir: join(dir, 'oci') });
    out(`  • ${name}@${p.version} packaged as an OCI image layout (format "${p.format}": a config layer and the wasm layer) in a temporary folder`);
    out(`      ✓ Istio's acceptance check: accepted; WasmPlugin sha256 (the manifest digest) ${p.digest.slice('sha256:'.length)}`);
    // The course's `oras push plugin.wasm:application/vnd.module.wasm.content.layer.v1+wasm`: one layer.
    const wasm = readFileSync(join(filterDir(ws.root, name), 'dist', `${name}.wasm`));
    const empty = Buffer.from('{}');
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociEmpty, digest: digestOf(empty), size: empty.length },
      layers: [{ mediaType: MediaType.wasmLayer, digest: digestOf(wasm), size: wasm.length, annotations: { 'org.opencontainers.image.title': 'plugin.wasm' } }],
    }));
    const blobs = new Map([[digestOf(empty), empty], [digestOf(wasm), wasm]]);
    out('  • the course\'s one-layer `oras push` of the same wasm');
    try {
      await checkIstioAcceptance({ manifest, blob: (d) => Promise.resolve(blobs.get(d.digest)!), childManifest: () => Promise.resolve(manifest) });
      problems.push('Istio\'s check accepted the one-layer artifact; the lab documents a refusal');
    } catch (e) {
      if (!(e instanceof IstioRejection) && !/number of layers must be 2/.test((e as Error).message)) throw e;
      out(`      ✓ refused, as istio-agent refuses it: ${(e as Error).message.split('\n').filter((l) => /layers must be 2/.test(l)).map((l) => l.replace(/^\s*\*\s*/, '')).join('') || (e as Error).message}`);
    }
    // The course's WasmPlugin says `failOpen: true`: not a field.
    const plugin = parseYaml(readFileSync(join(filterDir(ws.root, name), 'wasmplugin.yaml'), 'utf8')) as { spec: Record<string, unknown> };
    delete plugin.spec.failStrategy;
    plugin.spec.failOpen = true;
    const report = validateIstioDocs([{ index: 0, value: plugin }], 'course-wasmplugin.yaml');
    const err = report.issues.find((i) => i.severity === 'error' && /failOpen/.test(`${i.path.join('.')} ${i.message}`));
    out('  • the course\'s WasmPlugin with `failOpen: true`');
    if (err) out(`      ✓ refused by the Istio schema: ${err.path.join('.')}: ${err.message}`);
    else problems.push('the Istio schema check accepted `failOpen: true`; the lab documents a refusal');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return problems;
}

/** Lab 4: a trap on demand in the student-sized callout, fail closed then fail open. */
async function trapOffline(ws: Workspace, out: (l: string) => void): Promise<string[]> {
  out(`  • a trap on demand: the student version with "trapOn": "${TRAP_HEADER}" (a lab-only switch; the production filter never traps)`);
  const problems: string[] = [];
  for (const run of await trapDemo(filterDir(ws.root, 'callout'))) {
    const crit = run.trapped.logs.find((l) => l.level === 'critical');
    const label = run.policy === 'FAIL_CLOSED' ? 'fail closed (Envoy fail_open: false, Istio FAIL_CLOSE)' : 'fail open (Envoy fail_open: true, Istio FAIL_OPEN)';
    out(`    ${label}:`);
    if (crit && run.policy === 'FAIL_CLOSED') out(`      [critical] ${crit.message.split('\n')[0]}`);
    const said = (r: typeof run.trapped) => `${r.response.status}${r.details ? ` (${r.details})` : ''}${r.request === null ? ', never reached the upstream' : ', reached the upstream without the filter'}`;
    out(`      request with ${TRAP_HEADER}: 1 → ${said(run.trapped)}`);
    out(`      the next request → ${said(run.after)}`);
    out(run.failures.length ? `      ✗ NOT as the lab expects:\n${run.failures.map((f) => `          - ${f}`).join('\n')}` : '      ✓ as the lab expects');
    problems.push(...run.failures);
  }
  return problems;
}

function tryLines(ws: Workspace, lab: CourseLab): string[] {
  const lines: string[] = [];
  for (const name of lab.filters) {
    const { lab: file } = labFiles(filterDir(ws.root, name));
    for (const ex of file.exchanges) lines.push(`    $ ${curlFor(ex, LISTEN)}`);
  }
  if (lab.n === 4) {
    lines.push(`    $ curl -s ${ADMIN}/stats/prometheus | grep callout`);
    lines.push(`    $ curl -s -X POST '${ADMIN}/logging?wasm=debug'`);
  }
  if (lab.n === 5) {
    lines.push('    $ npx meshwasm wasmplugin header --selector app=httpbin        # the Istio manifest, pinned to the release');
    const { version } = JSON.parse(readFileSync(join(filterDir(ws.root, 'header'), 'package.json'), 'utf8')) as { version: string };
    lines.push(`    $ npx nx run header:package && npx meshwasm-oras istio-check packages/header/dist/oci:${version} --oci-layout`);
  }
  if (lab.n === 6) lines.push(`    $ curl -s ${ADMIN}/stats/prometheus | grep wasm_http`);
  return lines;
}

export async function lab(ws: Workspace, o: LabOptions): Promise<number> {
  const l = courseLab(o.lab);
  const out = (s: string) => ws.io.out(`${s}\n`);
  out(`▶ Lab ${l.n} — ${l.title}`);
  out(`  ${l.shows}`);
  if (o.build) {
    const r = await runNx(ws, ['run-many', '-t', 'build', 'build-lab', '-p', ...l.filters], { stdoutToStderr: true });
    if (r.code !== 0) throw failure(`building ${l.filters.join(', ')} failed (nx exited ${r.code}); the compiler's message is above`);
  }
  const problems: string[] = [];
  for (const name of l.filters) {
    for (const variant of ['student', 'production'] as const) {
      out('');
      out(variant === 'student' ? `── the student-sized version: packages/${name}/assembly/lab.ts` : `── the production filter: packages/${name}/assembly/index.ts`);
      let report: LabReport;
      try {
        report = await runLab(filterDir(ws.root, name), { variant });
      } catch (e) {
        throw failure((e as Error).message);
      }
      out(formatLabReport(report));
      if (failuresOf(report)) problems.push(`${name} (${variant}): ${failuresOf(report)} exchange(s)`);
    }
  }
  if (l.n === 4 || l.n === 5) {
    out('');
    out(l.n === 4 ? '── the failure policy at work' : '── packaging for Istio, offline (no registry needed)');
    problems.push(...(l.n === 4 ? await trapOffline(ws, out) : await deployOffline(ws, l.filters[0], out)));
  }
  out('');
  out(`Try it with the local proxy (npm run lab -- ${l.n} --serve keeps it up on ${LISTEN}):`);
  for (const t of tryLines(ws, l)) out(t);
  if (problems.length) throw failure(`Lab ${l.n} differs from its documented outcome: ${problems.join('; ')}`);
  out('');
  out(`✓ Lab ${l.n} behaves as documented`);
  if (!o.serve) return 0;
  const args = ['--envoy-config', l.serve.envoyConfig, '--echo', '8080', ...(l.serve.metadata ? ['--metadata', '8081'] : [])];
  out(`▶ serving ${l.serve.cwd === '.' ? '' : `${l.serve.cwd}/`}${l.serve.envoyConfig} until Ctrl-C (proxy-wasm-host serve ${args.join(' ')})`);
  const { exited } = spawnServe(args, { cwd: join(ws.root, l.serve.cwd), env: ws.io.env });
  return exited;
}
