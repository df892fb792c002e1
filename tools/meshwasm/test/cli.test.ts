// The command line itself: usage, --help per command, unknown commands, init, and `npx meshwasm`
// resolving the workspace bin from the repository root and from a filter folder.
import { afterAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { filterFiles } from '@meshwasm/nx-plugin/generators/filter/files';
import { listFilters } from '@meshwasm/release';
import { HELP, USAGE } from '../src/usage';
import { cliEnv, lines, meshwasm, REPO, removeScratch, scratchDir } from './helpers';

const COMMANDS = ['build', 'run', 'serve', 'push', 'wasmplugin', 'list', 'lab', 'init'];
const FILTERS = listFilters(REPO).map((f) => f.name).join(', ');

afterAll(removeScratch);

describe('meshwasm usage', () => {
  test('no arguments: the usage on stdout, exit 0; it names every command', () => {
    const r = meshwasm([]);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toBe(`${USAGE}\n`);
    for (const c of COMMANDS) expect(r.out).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(meshwasm(['--help']).out).toBe(r.out);
  });

  test.each(COMMANDS.filter((c) => c !== 'run'))('meshwasm %s --help: its usage on stdout, exit 0', (cmd) => {
    const r = meshwasm([cmd, '--help']);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toBe(`${HELP[cmd]}\n`);
    expect(r.out.startsWith(`usage: meshwasm ${cmd}`)).toBe(true);
    expect(meshwasm(['help', cmd]).out).toBe(r.out);
  });

  test('meshwasm run --help adds the host run options, read from the host itself', () => {
    const r = meshwasm(['run', '--help']);
    expect(r.code).toBe(0);
    expect(r.out.startsWith(`${HELP.run}\n`)).toBe(true);
    const host = spawnSync(join(REPO, 'node_modules/.bin/proxy-wasm-host'), ['--help'], { encoding: 'utf8' });
    const runLine = (host.stdout + host.stderr).split('\n').find((l) => l.includes('proxy-wasm-host run FILE.wasm'))!;
    expect(runLine).toBeDefined();
    expect(r.out).toContain(runLine);
    expect(r.out).not.toContain('proxy-wasm-host serve');
  });

  test('an unknown command: one line, exit 2', () => {
    const r = meshwasm(['deploy', 'redact']);
    expect([r.code, r.out]).toEqual([2, '']);
    expect(r.err).toBe('meshwasm: unknown command "deploy" (commands: build, run, serve, push, wasmplugin, list, lab, init; meshwasm --help shows the usage)\n');
  });

  test('a command needing a filter, outside a filter folder and without one: one line, exit 2', () => {
    const r = meshwasm(['build']);
    expect([r.code, r.out]).toEqual([2, '']);
    expect(r.err).toBe(`meshwasm build: name a filter (${FILTERS}), or run it inside packages/<filter>; meshwasm build --help shows the usage\n`);
    const u = meshwasm(['build', 'nope']);
    expect([u.code, lines(u.err)]).toEqual([2, [`meshwasm build: unknown filter "nope" (filters: ${FILTERS})`]]);
    const x = meshwasm(['list', 'extra']);
    expect([x.code, lines(x.err)]).toEqual([2, ['meshwasm list: unexpected argument "extra" (meshwasm list --help shows the usage)']]);
  });

  test('init refuses a bad, existing or missing name: one line, exit 2, nothing written', () => {
    const cases: Array<[string[], string]> = [
      [['init', 'RateLimit'], 'meshwasm init: "RateLimit" is not a valid filter name: use lowercase letters, digits and single hyphens, starting with a letter (it is the npm package, the OCI repository and Envoy\'s root_id); e.g. ratelimit\n'],
      [['init', 'header'], 'meshwasm init: packages/header already exists: choose another name, or edit that filter\n'],
      [['init', 'http'], 'meshwasm init: "http" is a Node.js built-in module, which npm refuses as a package name: choose another name\n'],
      [['init'], 'meshwasm init: name the new filter: meshwasm init <name>, e.g. meshwasm init ratelimit\n'],
    ];
    for (const [args, err] of cases) {
      const r = meshwasm(args);
      expect([args, r.code, r.out, r.err]).toEqual([args, 2, '', err]);
    }
    expect(spawnSync('git', ['status', '--porcelain', '--', 'packages', '.changeset'], { cwd: REPO, encoding: 'utf8' }).stdout).toBe('');
  });

  test('init <name> writes the files of the Nx generator (packages/<name> and its first changeset) and says to run npm install', () => {
    const ws = scratchDir('meshwasm-init-');
    cpSync(join(REPO, 'package.json'), join(ws, 'package.json'));
    mkdirSync(join(ws, 'packages'));
    const r = meshwasm(['init', 'ratelimit'], { cwd: ws });
    expect([r.code, r.err]).toEqual([0, '']);
    const expected = [...Object.keys(filterFiles('ratelimit')).map((f) => `packages/ratelimit/${f}`), '.changeset/ratelimit-first-release.md'];
    expect(lines(r.out).filter((l) => l.startsWith('create ')).sort()).toEqual(expected.map((f) => `create ${f}`).sort());
    for (const [f, text] of Object.entries(filterFiles('ratelimit'))) expect(readFileSync(join(ws, 'packages', 'ratelimit', f), 'utf8')).toBe(text);
    expect(r.out).toContain('next: run `npm install` at the repository root');
    // a second run finds the package and writes nothing
    const again = meshwasm(['init', 'ratelimit'], { cwd: ws });
    expect([again.code, again.out, again.err]).toEqual([2, '', 'meshwasm init: packages/ratelimit already exists: choose another name, or edit that filter\n']);
  });
});

describe('npx meshwasm', () => {
  const npx = (cwd: string, args: string[]) => spawnSync('npx', ['--no-install', 'meshwasm', ...args], { cwd, env: cliEnv(), encoding: 'utf8' });
  test('from the repository root and from a filter folder, npx runs this workspace bin', () => {
    const root = npx(REPO, ['--help']);
    expect([root.status, root.stdout]).toEqual([0, `${USAGE}\n`]);
    const inFilter = npx(join(REPO, 'packages/redact'), ['wasmplugin', '--help']);
    expect([inFilter.status, inFilter.stdout]).toEqual([0, `${HELP.wasmplugin}\n`]);
    // inside the filter folder the filter is implied
    const implied = npx(join(REPO, 'packages/redact'), ['wasmplugin', '--fail-strategy', 'sometimes']);
    expect([implied.status, implied.stdout, implied.stderr]).toEqual([2, '', 'meshwasm wasmplugin: --fail-strategy must be one of FAIL_OPEN, FAIL_CLOSE, FAIL_RELOAD (got "sometimes")\n']);
  });
});
