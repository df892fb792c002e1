// `meshwasm push` through the real bin: the registry comes from --registry or $WASM_REGISTRY (one
// line and exit 2 when neither), and the artifact lands in a real docker-registry on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveInLayout } from '@meshwasm/oras';
import { listFilters } from '@meshwasm/release';
import { REGISTRY_BIN, startRegistry, type RegistryHandle } from '../../oras/test/harness';
import { cleanEnv, copyWorkspace, gitIn, removeDir, runIn } from '../../release/test/workspace-copy';
import { cliEnv, freePort, lines, meshwasm, REPO } from './helpers';

const VERSION = listFilters(REPO).find((f) => f.name === 'header')!.version;

describe('meshwasm push: where to', () => {
  test('neither --registry nor WASM_REGISTRY: one line saying what to do, exit 2', () => {
    for (const env of [cliEnv(), cliEnv({ WASM_REGISTRY: '' })]) {
      const r = meshwasm(['push', 'header'], { env });
      expect([r.code, r.out, r.err]).toEqual([2, '', 'meshwasm push: WASM_REGISTRY is not set: export WASM_REGISTRY=host[:port]/path, or run meshwasm push --registry …\n']);
    }
  });

  test('a registry that is not host[:port]/path: one line naming where it came from, exit 2', () => {
    const flag = meshwasm(['push', 'header', '--registry', 'https://ghcr.io/me']);
    expect([flag.code, flag.out]).toEqual([2, '']);
    expect(lines(flag.err)).toEqual(['meshwasm push: --registry=https://ghcr.io/me: give host[:port]/namespace without a scheme (plain http is used for 127.0.0.1/localhost only)']);
    const env = meshwasm(['push', 'header'], { env: cliEnv({ WASM_REGISTRY: 'Not A Registry' }) });
    expect(env.code).toBe(2);
    expect(lines(env.err)).toHaveLength(1);
    expect(env.err).toMatch(/^meshwasm push: WASM_REGISTRY=Not A Registry: not a valid registry\/namespace/);
  });
});

if (!existsSync(REGISTRY_BIN)) {
  describe('meshwasm push to a registry', () => {
    test('needs docker-registry', () => {
      const msg = `MISSING COMPONENT: docker-registry (${REGISTRY_BIN}); install it with ./scripts/setup-system.sh or apt-get install docker-registry`;
      console.warn(msg);
      expect(process.env.CI === 'true' ? msg : 'not in CI').toBe('not in CI');
    });
  });
} else {
  describe('meshwasm push to a registry', () => {
    let registry: RegistryHandle;
    // A copy of this working tree in which header is released as it is now (`release pin`, then a
    // commit): the push publishes exactly what the pin says, whatever changed since the last
    // real release.
    let ws: string;
    beforeAll(async () => {
      registry = await startRegistry();
      ws = copyWorkspace('meshwasm-push-');
      const pin = runIn(ws, process.execPath, [join(REPO, 'node_modules/tsx/dist/cli.mjs'), 'tools/release/src/cli.ts', 'pin', 'header'], cleanEnv());
      if (pin.status !== 0) throw new Error(`release pin header failed:\n${pin.out}`);
      gitIn(ws, 'commit', '-qam', 'release header as it is');
    }, 600_000);
    afterAll(async () => {
      await registry?.stop();
      if (ws) removeDir(ws);
    });

    test('pushes <registry>/<filter>:<version> (the packaged layout, same digest); a second push pushes nothing', async () => {
      const where = `127.0.0.1:${registry.port}/meshwasm`;
      const r = meshwasm(['push', 'header', '--registry', where], { cwd: ws });
      expect(r.err).not.toMatch(/error/i);
      expect(r.code).toBe(0);
      const local = resolveInLayout(join(ws, 'packages/header/dist/oci'), VERSION);
      const res = await fetch(`http://127.0.0.1:${registry.port}/v2/meshwasm/header/manifests/${VERSION}`, { method: 'HEAD', headers: { accept: local.mediaType } });
      expect(res.status).toBe(200);
      expect(res.headers.get('docker-content-digest')).toBe(local.digest);
      expect(r.out).toContain(`published: ${where}/header:${VERSION} ${local.digest}`);
      // WASM_REGISTRY is the default; the same digest again is not pushed again
      const again = meshwasm(['push', 'header'], { cwd: ws, env: cliEnv({ WASM_REGISTRY: where }) });
      expect(again.code).toBe(0);
      expect(again.out).toContain(`already published: ${where}/header:${VERSION} ${local.digest}`);
    }, 600_000);

    test('a registry nobody answers on: exit 1, and the last line says why', async () => {
      const port = await freePort();
      const r = meshwasm(['push', 'header', '--registry', `127.0.0.1:${port}/meshwasm`], { cwd: ws });
      expect(r.code).toBe(1);
      const last = lines(r.err).pop()!;
      expect(last).toMatch(new RegExp(`^meshwasm push: pushing header@${VERSION.replace(/\./g, '\\.')} to 127\\.0\\.0\\.1:${port}/meshwasm failed: .*(ECONNREFUSED|connect|refused)`, 'i'));
    }, 600_000);
  });
}
