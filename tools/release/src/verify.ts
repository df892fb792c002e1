/**
 * Checks that the sha256 pinned for each released filter is the digest of the artifact its
 * release commit builds. No registry is needed: the artifact is reproducible, so a clean checkout
 * of the release commit (found without tags, see `releaseCommit`) packages the very manifest that
 * `release:publish` pushed. Later commits do not matter: the release commit is built, not HEAD.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { resolveInLayout } from '@meshwasm/oras';
import { ociRepositoryName, readPins, yamlFilesUnder } from './manifests';
import { git, listFilters, readFilter, releaseCommit, toPosix, type FilterInfo } from './workspace';

export interface Pin {
  /** Workspace-relative file. */
  file: string;
  url: string;
  sha256?: string;
}

/**
 * The pins of `<name>:<version>` in a checkout: its own wasmplugin.yaml (every document) and the
 * deploy/ manifests whose oci:// url names the filter at that version.
 */
export function pinsOf(dir: string, f: Pick<FilterInfo, 'name' | 'version' | 'root'>): Pin[] {
  const out: Pin[] = [];
  const own = join(dir, f.root, 'wasmplugin.yaml');
  if (existsSync(own)) for (const p of readPins(own)) out.push({ file: `${f.root}/wasmplugin.yaml`, url: p.url ?? '', sha256: p.sha256 });
  for (const file of yamlFilesUnder(join(dir, 'deploy'))) {
    for (const p of readPins(file)) {
      if (!p.url || ociRepositoryName(p.url) !== f.name) continue;
      out.push({ file: toPosix(relative(dir, file)), url: p.url, sha256: p.sha256 });
    }
  }
  return out;
}

/** What is wrong with the pins of `f` in `dir` against the built `digest` (`sha256:…`); empty when right. */
export function pinProblems(dir: string, f: Pick<FilterInfo, 'name' | 'version' | 'root'>, digest: string): string[] {
  const hex = digest.replace(/^sha256:/, '');
  const pins = pinsOf(dir, f);
  const problems: string[] = [];
  if (!pins.some((p) => p.file === `${f.root}/wasmplugin.yaml`)) problems.push(`${f.root}/wasmplugin.yaml: no WasmPlugin to pin`);
  for (const p of pins) {
    if (!p.url.endsWith(`/${f.name}:${f.version}`)) {
      problems.push(`${p.file}: url ${p.url || '(none)'} does not name ${f.name}:${f.version}`);
    } else if (p.sha256 !== hex) {
      problems.push(`${p.file}: ${f.name}@${f.version} pins sha256 ${p.sha256 ?? '(none)'}, but its release commit builds ${hex}`);
    }
  }
  return problems;
}

export interface VerifiedFilter {
  name: string;
  version: string;
  /** The release commit that was built. */
  commit: string;
  /** Manifest digest of the artifact packaged from a clean checkout of `commit`. */
  digest: string;
  /** Problems at the release commit and, when it still names this version, at the workspace's HEAD. */
  problems: string[];
}

export interface VerifyOptions {
  /** Keep the clean checkouts (for inspection or further checks); the caller removes them. */
  keep?: boolean;
  log?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface VerifyResult {
  filters: VerifiedFilter[];
  /** Filters with no release commit (never released): they must pin no sha256. */
  unreleased: { name: string; version: string; problems: string[] }[];
  /** Clean checkouts by release commit (kept with `keep`, else already removed). */
  checkouts: Map<string, string>;
}

function run(cwd: string, cmd: string, args: string[], env: NodeJS.ProcessEnv): void {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd} (${r.error?.message ?? `exit ${r.status ?? r.signal}`}):\n${`${r.stdout ?? ''}\n${r.stderr ?? ''}`.slice(-4000)}`);
  }
}

/** A clean checkout of `commit` (a clone: nothing from the working tree or its build cache). */
export function cleanCheckout(workspaceRoot: string, commit: string, env: NodeJS.ProcessEnv): string {
  const dir = mkdtempSync(join(tmpdir(), 'release-verify-'));
  run(dir, 'git', ['clone', '-q', '--no-checkout', workspaceRoot, '.'], env);
  if (!git(dir, ['cat-file', '-e', `${commit}^{commit}`])) run(dir, 'git', ['fetch', '-q', workspaceRoot, commit], env);
  run(dir, 'git', ['checkout', '-q', '--detach', commit], env);
  linkNodeModules(workspaceRoot, dir);
  return dir;
}

/**
 * Gives `dir` (a checkout of the workspace at another commit) the workspace's installed packages
 * (npm ci of the same lockfile would give the same files), except the workspace's own packages:
 * those link to the checkout's folders. A plain symlink to node_modules would build the checkout's
 * filters with today's SDK (node_modules/as-proxy-wasm -> ../packages/as-proxy-wasm), not the
 * SDK of that commit.
 */
export function linkNodeModules(workspaceRoot: string, dir: string): void {
  const from = join(workspaceRoot, 'node_modules');
  const link = (name: string): void => {
    const entry = join(from, name);
    const stat = lstatSync(entry);
    if (stat.isDirectory() && name.startsWith('@') && !name.includes('/')) {
      mkdirSync(join(dir, 'node_modules', name), { recursive: true });
      for (const sub of readdirSync(entry)) link(`${name}/${sub}`);
      return;
    }
    let target = entry;
    if (stat.isSymbolicLink()) {
      const real = realpathSync(entry);
      const inside = relative(workspaceRoot, real);
      // a workspace package (not a package installed under node_modules): the checkout's own copy
      if (!inside.startsWith('..') && !inside.startsWith('node_modules')) target = join(dir, inside);
    }
    symlinkSync(target, join(dir, 'node_modules', name), 'dir');
  };
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  for (const name of readdirSync(from)) {
    if (name === '.bin') linkBins(join(from, '.bin'), join(dir, 'node_modules', '.bin'));
    else link(name);
  }
}

/**
 * node_modules/.bin as a folder of the same relative links (`../<package>/bin/…`): they resolve in
 * the checkout's node_modules, so a workspace package's bin (meshwasm-labs, proxy-wasm-host, …)
 * runs the checkout's copy, not the workspace's. A link to the whole folder would run the latter.
 */
function linkBins(from: string, to: string): void {
  if (!existsSync(from)) return;
  mkdirSync(to, { recursive: true });
  for (const bin of readdirSync(from)) {
    const entry = join(from, bin);
    symlinkSync(lstatSync(entry).isSymbolicLink() ? readlinkSync(entry) : entry, join(to, bin));
  }
}

export function verifyPinnedDigests(workspaceRoot: string, opts: VerifyOptions = {}): VerifyResult {
  const log = opts.log ?? ((l: string) => console.log(l));
  const base = opts.env ?? process.env;
  const env: NodeJS.ProcessEnv = { ...base, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', NX_INTERACTIVE: 'false' };
  const filters = listFilters(workspaceRoot);
  const byCommit = new Map<string, FilterInfo[]>();
  const unreleased: VerifyResult['unreleased'] = [];
  for (const f of filters) {
    const commit = releaseCommit(workspaceRoot, f);
    if (!commit) {
      const pinned = pinsOf(workspaceRoot, f).filter((p) => p.sha256 !== undefined);
      unreleased.push({
        name: f.name, version: f.version,
        problems: pinned.map((p) => `${p.file}: ${f.name}@${f.version} was never released (no release commit) but pins sha256 ${p.sha256}`),
      });
      continue;
    }
    byCommit.set(commit, [...(byCommit.get(commit) ?? []), f]);
  }
  const out: VerifiedFilter[] = [];
  const checkouts = new Map<string, string>();
  for (const [commit, group] of byCommit) {
    const dir = cleanCheckout(workspaceRoot, commit, env);
    checkouts.set(commit, dir);
    try {
      const names = group.map((f) => f.name);
      log(`release commit ${commit.slice(0, 12)}: building and packaging ${names.join(', ')} in a clean checkout`);
      run(dir, join(dir, 'node_modules', '.bin', 'nx'), ['run-many', '-t', 'package', '-p', names.join(','), '--skip-nx-cache', '--outputStyle=stream'], env);
      for (const f of group) {
        const at = readFilter(dir, f.root);
        const digest = resolveInLayout(at.layoutDir, at.version).digest;
        const problems = pinProblems(dir, at, digest).map((p) => `at the release commit: ${p}`);
        if (f.version === at.version) problems.push(...pinProblems(workspaceRoot, f, digest).map((p) => `at HEAD: ${p}`));
        out.push({ name: f.name, version: at.version, commit, digest, problems });
        log(`${f.name}@${at.version}: ${digest}${problems.length ? ` — ${problems.length} problem(s)` : ' — pinned everywhere'}`);
      }
    } finally {
      if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    }
  }
  return { filters: out.sort((a, b) => a.name.localeCompare(b.name)), unreleased, checkouts };
}
