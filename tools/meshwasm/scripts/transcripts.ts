/**
 * The README's example transcripts, produced by running the real bin on this checkout.
 *
 *   npx tsx tools/meshwasm/scripts/transcripts.ts           rewrite every block in tools/meshwasm/README.md
 *   npx tsx tools/meshwasm/scripts/transcripts.ts --check   exit 1 when a block differs from a fresh run
 *
 * A block sits between `<!-- transcript: ID -->` and `<!-- /transcript -->`. The commands run in a
 * scratch directory outside the repository (meshwasm then works on the repository it is installed
 * in), where the example config files are written first, so paths in the output are short.
 * test/readme.test.ts checks every block except `list`, whose output depends on the working tree.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const PKG = resolve(__dirname, '..');
export const README = join(PKG, 'README.md');
const BIN = join(PKG, 'bin', 'meshwasm.cjs');

/** Files written in the scratch directory before the commands run. */
export const FILES: Record<string, string> = {
  'my.json': `${JSON.stringify({ rules: [{ marker: 'TOKEN=' }, { detector: 'email' }], mask: '***' }, null, 2)}\n`,
  'bad.json': `${JSON.stringify({ rules: [{ markr: 'TOKEN=' }] }, null, 2)}\n`,
};

interface Step {
  /** Shell line shown after `$ `. */
  shown: string;
  /** meshwasm arguments (undefined: `cat` of a scratch file). */
  args?: string[];
  cat?: string;
  env?: NodeJS.ProcessEnv;
}

export const TRANSCRIPTS: Record<string, Step[]> = {
  usage: [{ shown: 'npx meshwasm', args: [] }],
  wasmplugin: [
    { shown: 'cat my.json', cat: 'my.json' },
    { shown: 'npx meshwasm wasmplugin redact --config my.json --selector app=orders', args: ['wasmplugin', 'redact', '--config', 'my.json', '--selector', 'app=orders'] },
  ],
  'bad-config': [
    { shown: 'cat bad.json', cat: 'bad.json' },
    { shown: 'npx meshwasm wasmplugin redact --config bad.json --selector app=orders', args: ['wasmplugin', 'redact', '--config', 'bad.json', '--selector', 'app=orders'] },
  ],
  'bad-flag': [{ shown: 'npx meshwasm wasmplugin redact --fail-strategy open', args: ['wasmplugin', 'redact', '--fail-strategy', 'open'] }],
  push: [{ shown: 'npx meshwasm push redact', args: ['push', 'redact'], env: { WASM_REGISTRY: '' } }],
  init: [{ shown: 'npx meshwasm init ratelimit', args: ['init', 'ratelimit'] }],
  list: [{ shown: 'npx meshwasm list', args: ['list'] }],
};

/** Runs one transcript and returns the text of its block (without the fences). */
export function render(id: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshwasm-transcript-'));
  try {
    for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, name), text);
    const out: string[] = [];
    for (const step of TRANSCRIPTS[id]) {
      out.push(`$ ${step.shown}`);
      if (step.cat) {
        out.push(FILES[step.cat].replace(/\n$/, ''));
        continue;
      }
      const env: NodeJS.ProcessEnv = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', ...step.env };
      if (env.WASM_REGISTRY === '') delete env.WASM_REGISTRY;
      const r = spawnSync(process.execPath, [BIN, ...step.args!], { cwd: dir, env, encoding: 'utf8' });
      if (r.error) throw r.error;
      // Either stdout or stderr carries the answer; a warning (stderr) comes before the output it is about.
      const text = `${r.stderr}${r.stdout}`.replace(/\n$/, '');
      if (text) out.push(text);
      if (r.status !== 0) out.push('$ echo $?', String(r.status));
    }
    return out.join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const BLOCK = /(<!-- transcript: ([\w-]+) -->\n```console\n)([\s\S]*?)(\n```\n<!-- \/transcript -->)/g;

/** The blocks of the README: id -> text. */
export function readmeBlocks(text = readFileSync(README, 'utf8')): Map<string, string> {
  const m = new Map<string, string>();
  for (const x of text.matchAll(BLOCK)) m.set(x[2], x[3]);
  return m;
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const text = readFileSync(README, 'utf8');
  const stale: string[] = [];
  const next = text.replace(BLOCK, (_all, open: string, id: string, body: string, close: string) => {
    if (!TRANSCRIPTS[id]) throw new Error(`README.md: unknown transcript ${id} (known: ${Object.keys(TRANSCRIPTS).join(', ')})`);
    const fresh = render(id);
    if (fresh !== body) stale.push(id);
    return `${open}${fresh}${close}`;
  });
  if (check) {
    if (stale.length) process.stderr.write(`stale transcripts in tools/meshwasm/README.md: ${stale.join(', ')}; run npx tsx tools/meshwasm/scripts/transcripts.ts\n`);
    return stale.length ? 1 : 0;
  }
  writeFileSync(README, next);
  process.stdout.write(stale.length ? `rewrote ${stale.join(', ')}\n` : 'every transcript is current\n');
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
