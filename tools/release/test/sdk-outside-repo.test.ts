/**
 * The SDK is not on npm yet; its README says how to use it from a checkout. This builds the
 * README's example outside the repository the way `npm install file:…/packages/as-proxy-wasm`
 * installs it (a node_modules link), with the README's asconfig.json, and checks what the README
 * says about versions and the packed copy.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runIn, workspaceRoot as root } from './workspace-copy';

const sdkDir = join(root, 'packages', 'as-proxy-wasm');
const readme = readFileSync(join(sdkDir, 'README.md'), 'utf8');
const sdk = JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8')) as { name: string; version: string; files: string[] };
let project = '';

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

/** The first fenced block of `lang` after `marker` in the README. */
function block(marker: string, lang: string): string {
  const at = readme.indexOf(marker);
  expect(at).toBeGreaterThanOrEqual(0);
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```').exec(readme.slice(at));
  if (!m) throw new Error(`README: no \`\`\`${lang} block after ${JSON.stringify(marker)}`);
  return m[1];
}

describe('as-proxy-wasm from a checkout (not on npm yet)', () => {
  test('the README says so, and names the current version', () => {
    expect(readme).toContain('**`as-proxy-wasm` is not published to npm yet**');
    expect(readme).toContain(`"as-proxy-wasm": "^${sdk.version}"`);
    expect(readme).toContain(`./as-proxy-wasm-${sdk.version}.tgz`);
  });

  test("the README's asconfig.json for other projects carries asconfig.base.json's settings", () => {
    const cfg = JSON.parse(block('Outside this repository', 'json'));
    const base = JSON.parse(readFileSync(join(root, 'asconfig.base.json'), 'utf8'));
    expect(cfg).toEqual({ entries: ['assembly/index.ts'], ...base });
  });

  test('the packed copy (npm pack) holds what a build needs', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: sdkDir, encoding: 'utf8' });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
    for (const f of ['package.json', 'index.ts', 'assembly/index.ts', 'assembly/exports.ts', 'assembly/transform.mjs', 'README.md']) expect(files).toContain(f);
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('bench/'))).toEqual([]);
  });

  test("the README's example builds outside the repository with the SDK linked as file: links it", () => {
    project = mkdtempSync(join(tmpdir(), 'sdk-outside-'));
    mkdirSync(join(project, 'node_modules'));
    mkdirSync(join(project, 'assembly'));
    symlinkSync(sdkDir, join(project, 'node_modules', 'as-proxy-wasm'), 'dir');
    symlinkSync(join(root, 'node_modules', 'assemblyscript'), join(project, 'node_modules', 'assemblyscript'), 'dir');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-filter', private: true, devDependencies: { 'as-proxy-wasm': 'file:../meshwasm/packages/as-proxy-wasm' } }));
    writeFileSync(join(project, 'asconfig.json'), block('Outside this repository', 'json'));
    writeFileSync(join(project, 'assembly', 'index.ts'), block('`assembly/index.ts`:', 'ts'));
    const asc = join(root, 'node_modules', '.bin', 'asc');
    const r = runIn(project, asc, ['assembly/index.ts', '--config', 'asconfig.json', '--target', 'release', '--outFile', 'dist/filter.wasm']);
    expect(r.out).not.toMatch(/ERROR/);
    expect(r.status).toBe(0);
    const wasm = join(project, 'dist', 'filter.wasm');
    expect(existsSync(wasm)).toBe(true);
    // "about 9 KB"
    expect(statSync(wasm).size).toBeGreaterThan(6_000);
    expect(statSync(wasm).size).toBeLessThan(10_000);
    expect(WebAssembly.validate(readFileSync(wasm))).toBe(true);
  }, 180_000);
});
