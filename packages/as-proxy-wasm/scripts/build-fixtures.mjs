// Compiles the SDK fixtures (test/fixtures/*.ts) and, with --peer, the
// @gcoredev peer fixtures (bench/peer/*.ts) into build/, with the
// programmatic asc API (one Node process for all of them). Up-to-date
// outputs are skipped unless --force.
//   node scripts/build-fixtures.mjs [--peer] [--force] [--only a,b]
import asc from 'assemblyscript/asc';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = join(PKG, '..', '..');
const OUT = join(PKG, 'build');
const argv = process.argv.slice(2);
const onlyIdx = argv.indexOf('--only');
const only = onlyIdx >= 0 ? argv[onlyIdx + 1].split(',') : null;

mkdirSync(OUT, { recursive: true });
const jobs = [];
const fixtures = join(PKG, 'test', 'fixtures');
for (const f of readdirSync(fixtures).filter((x) => x.endsWith('.ts'))) {
  const name = f.replace(/\.ts$/, '');
  // a fixture with its own <name>.asconfig.json (e.g. the owned memory mode) compiles with it
  const own = join(fixtures, `${name}.asconfig.json`);
  if (!only || only.includes(name)) jobs.push([name, join(fixtures, f), existsSync(own) ? own : join(ROOT, 'asconfig.base.json')]);
}
if (argv.includes('--peer')) {
  for (const f of ['noop', 'header']) {
    if (!only || only.includes(`peer-${f}`)) jobs.push([`peer-${f}`, join(PKG, 'bench', 'peer', `${f}.ts`), join(PKG, 'bench', 'peer', 'asconfig.json')]);
  }
}
const mtime = (p) => statSync(p).mtimeMs;
const sdkTime = Math.max(mtime(join(ROOT, 'asconfig.base.json')), ...readdirSync(join(PKG, 'assembly'), { recursive: true }).map((f) => mtime(join(PKG, 'assembly', f))));
let failed = false;
for (const [name, entry, config] of jobs) {
  const outFile = join(OUT, `${name}.wasm`);
  let fresh = false;
  try { fresh = !argv.includes('--force') && mtime(outFile) > Math.max(sdkTime, mtime(entry), mtime(config)); } catch { fresh = false; }
  if (fresh) continue;
  if (name.startsWith('peer-')) {
    // the peer config extends @assemblyscript/wasi-shim, whose relative `lib` resolves from the CLI's cwd
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules', 'assemblyscript', 'bin', 'asc.js'), relative(PKG, entry), '--config', relative(PKG, config), '--outFile', relative(PKG, outFile)], { cwd: PKG, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) { failed = true; process.stderr.write(`asc ${name} failed: ${e.stderr}\n`); }
    continue;
  }
  let err = '';
  const { error } = await asc.main([entry, '--config', config, '--target', 'release', '--outFile', outFile], {
    stdout: { write: () => true },
    stderr: { write: (s) => { err += String(s); return true; } },
  });
  if (error) {
    failed = true;
    process.stderr.write(`asc ${name} failed: ${error.message}\n${err}\n`);
  }
}
for (const [name] of jobs) {
  try { process.stdout.write(`${name}\t${statSync(join(OUT, `${name}.wasm`)).size}\n`); } catch { /* failed */ }
}
process.exit(failed ? 1 : 0);
