/**
 * The course's student-sized versions: every filter with an assembly/lab.ts gets an inferred,
 * cached `build-lab` target writing dist/<name>.lab.wasm, and lab.ts is never an input of what is
 * released (the `build` hash, the `package` created time).
 */
import { beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const FILTERS = ['blocklist', 'callout', 'header', 'http-timing', 'redact'];

interface Target { cache?: boolean; dependsOn?: unknown[]; inputs?: unknown[]; outputs?: string[]; options: { command: string } }

let graph: Record<string, { data: { targets: Record<string, Target> } }>;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'nx-graph-'));
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'nx'), ['graph', `--file=${join(dir, 'graph.json')}`], {
      cwd: root, stdio: 'ignore', env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
    });
    graph = JSON.parse(readFileSync(join(dir, 'graph.json'), 'utf8')).graph.nodes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);

const targets = (project: string): Record<string, Target> => graph[project].data.targets;

describe('build-lab', () => {
  test.each(FILTERS)('%s: build-lab builds assembly/lab.ts with the default options to dist/<name>.lab.wasm, cached', (name) => {
    expect(existsSync(join(root, 'packages', name, 'assembly', 'lab.ts'))).toBe(true);
    const t = targets(name);
    const lab = t['build-lab'];
    expect(lab.options.command).toBe(`asc assembly/lab.ts --config ../../asconfig.base.json --target release --outFile dist/${name}.lab.wasm`);
    expect(lab.cache).toBe(true);
    expect(lab.outputs).toEqual([`{projectRoot}/dist/${name}.lab.wasm`]);
    expect(lab.inputs).toContain('{projectRoot}/assembly/lab.ts');
    expect(lab.inputs).toContain('{workspaceRoot}/packages/as-proxy-wasm/assembly/**/*');
    expect(lab.inputs).not.toContain('{projectRoot}/assembly/**/*'); // the production sources are not its inputs
    // the release build: lab.ts excluded, and its output is its own file (restoring it keeps the lab build)
    expect(t.build.inputs).toContain(`!{workspaceRoot}/packages/${name}/assembly/lab.ts`);
    expect(t.build.outputs).toEqual([`{projectRoot}/dist/${name}.wasm`]);
    expect(t.package.inputs).toContainEqual({ runtime: expect.stringContaining(`':(exclude)packages/${name}/assembly/lab.ts'`) as unknown as string });
    expect(t.test.dependsOn).toEqual(['build', 'build-lab']);
  });
});
