/**
 * The main job (`npm start`): builds every filter with Nx, then runs each filter's course lab
 * (examples/lab.json + examples/lab.exchanges.json) through the embedded Node proxy-wasm host and
 * prints what the filter did. No Docker, no Envoy, no registry.
 *
 *   npm start                  build + labs
 *   npm start -- --verbose     also print every header the upstream and the client saw
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatLabReport, runLab } from '@meshwasm/labs';

const root = join(__dirname, '..');
const verbose = process.argv.includes('--verbose');

function filters(): string[] {
  const dir = join(root, 'packages');
  return readdirSync(dir)
    .filter((n) => existsSync(join(dir, n, 'asconfig.json')) && existsSync(join(dir, n, 'examples', 'lab.exchanges.json')))
    .sort();
}

async function main(): Promise<number> {
  console.log('▶ building every filter (nx run-many -t build)');
  const build = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '--outputStyle=static'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    env: { ...process.env, NX_TUI: 'false' },
  });
  if (build.status !== 0) {
    process.stdout.write(build.stdout);
    process.stderr.write(build.stderr);
    console.error('✗ build failed');
    return 1;
  }
  const cached = /(\d+) out of (\d+) tasks? (?:was|were) (?:read|retrieved) from cache|Nx read the output from the cache/.exec(build.stdout);
  console.log(`✓ built${cached ? ' (from the Nx cache where nothing changed)' : ''}\n`);

  let failures = 0;
  for (const name of filters()) {
    const report = await runLab(join(root, 'packages', name));
    console.log(formatLabReport(report, { verbose }));
    console.log('');
    failures += report.results.filter((r) => r.failures.length > 0).length + (report.configured ? 0 : 1);
  }
  console.log(failures === 0 ? '✓ every lab behaves as documented' : `✗ ${failures} lab exchange(s) differ from the documented outcome`);
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
