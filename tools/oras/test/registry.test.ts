/**
 * Integration tests against real components on 127.0.0.1: Debian's docker-registry (anonymous,
 * htpasswd basic auth, token auth), skopeo as a foreign client, and a fault-injecting proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchManifest, istioCheckRemote, pull, pullToLayout, pushContent, pushLayout, resolveDigest } from '../src/api';
import { main } from '../src/cli';
import { RegistryClient, RegistryError } from '../src/registry';
import { MediaType, digestOf, encodeJson } from '../src/media';
import { packWasm, packageWasm } from '../src/pack';
import { StaticCredentials } from '../src/auth';
import { bigWasm } from './helpers';
import { describeMissingComponents, missingComponents, skopeo, startFaultProxy, startRegistry, tempDir, type RegistryHandle } from './harness';

const missing = missingComponents();

async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}, stdin = '') {
  let out = '';
  let err = '';
  const code = await main(argv, {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    stdin: () => stdin,
    env: { ...process.env, ...env },
  });
  return { code, out, err };
}

async function expectRegistryError(p: Promise<unknown>, code: string): Promise<RegistryError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(RegistryError);
  expect((caught as RegistryError).code).toBe(code);
  expect((caught as Error).message).toContain(code);
  return caught as RegistryError;
}

if (missing.length > 0) {
  describeMissingComponents('tools/oras integration tests (real registry)', missing);
} else {
  const work = tempDir('oras-it-');
  const wasmPath = join(work, 'header.wasm');
  const wasm = bigWasm(6000, 7);
  writeFileSync(wasmPath, wasm);
  let anon: RegistryHandle;
  let basic: RegistryHandle;
  let token: RegistryHandle;

  beforeAll(async () => {
    [anon, basic, token] = await Promise.all([
      startRegistry(),
      startRegistry({ auth: 'htpasswd', user: 'alice', password: 'basic-s3cret' }),
      startRegistry({ auth: 'token', user: 'bob', password: 'token-s3cret' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([anon?.stop(), basic?.stop(), token?.stop()]);
    rmSync(work, { recursive: true, force: true });
  });

  describe('anonymous docker-registry 2.8', () => {
    it('publishes a packaged layout once, skips the second time, and skopeo reads it byte for byte', async () => {
      const pkg = packageWasm({ wasmPath, name: 'header', version: '0.1.0', created: '2024-05-01T00:00:00Z', rootIds: ['header'], outDir: join(work, 'oci') });
      const ref = `${anon.host}/meshwasm/header:0.1.0`;
      const first = await pushLayout({ layoutDir: pkg.layoutDir, ref });
      expect(first).toMatchObject({ digest: pkg.digest, pushed: true });
      expect(Object.values(first.blobs)).toEqual(['uploaded', 'uploaded']);
      const second = await pushLayout({ layoutDir: pkg.layoutDir, ref });
      expect(second).toMatchObject({ digest: pkg.digest, pushed: false });
      expect(await resolveDigest(ref)).toBe(pkg.digest);

      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
      expect(raw.stderr).toBe('');
      expect(digestOf(Buffer.from(raw.stdout))).toBe(pkg.digest);
      const out = join(work, 'skopeo-oci');
      const cp = await skopeo(['--insecure-policy', 'copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${out}:0.1.0`]);
      expect(cp.status).toBe(0);
      const local = await skopeo(['inspect', '--raw', `oci:${out}:0.1.0`]);
      expect(digestOf(Buffer.from(local.stdout))).toBe(pkg.digest);
      // our own layout is readable by skopeo as well
      const ours = await skopeo(['inspect', '--raw', `oci:${pkg.layoutDir}:0.1.0`]);
      expect(digestOf(Buffer.from(ours.stdout))).toBe(pkg.digest);

      const istio = await istioCheckRemote(ref, { sha256: pkg.digest.slice(7) });
      expect(istio.wasm.equals(wasm)).toBe(true);
    });

    it('pushes compat images that skopeo inspects as images and copies unchanged', async () => {
      const res = await runCli(['push-wasm', wasmPath, `${anon.host}/meshwasm/compat:1.0.0,latest`, '--format', 'compat', '--format', 'json', '--created', '1714521600']);
      expect(res.err).toBe('');
      expect(res.code).toBe(0);
      const out = JSON.parse(res.out);
      expect(out).toMatchObject({ format: 'compat', pushed: true, tags: ['1.0.0', 'latest'] });
      const insp = await skopeo(['inspect', '--tls-verify=false', `docker://${anon.host}/meshwasm/compat:latest`]);
      expect(insp.status).toBe(0);
      expect(JSON.parse(insp.stdout)).toMatchObject({ Digest: out.digest, Os: 'linux', Architecture: 'amd64', Created: '2024-05-01T00:00:00Z' });
      const dir = join(work, 'compat-copy');
      expect((await skopeo(['--insecure-policy', 'copy', '--src-tls-verify=false', `docker://${anon.host}/meshwasm/compat:1.0.0`, `oci:${dir}:c`])).status).toBe(0);
      expect(JSON.parse((await skopeo(['inspect', `oci:${dir}:c`])).stdout).Digest).toBe(out.digest);
      const check = await runCli(['istio-check', `${anon.host}/meshwasm/compat:1.0.0`, '--sha256', out.digest.slice(7)]);
      expect(check.code).toBe(0);
      expect(check.out).toContain('Istio accepts');
    });

    it("shows the course's 1-layer push is rejected by Istio's rules", async () => {
      const ref = `${anon.host}/course/plugin:v1`;
      const push = await runCli(['push', ref, `${wasmPath}:${MediaType.wasmLayer}`]);
      expect(push.code).toBe(0);
      expect(push.err).toContain('number of layers must be 2 but got 1');
      const check = await runCli(['istio-check', ref]);
      expect(check.code).toBe(1);
      expect(check.err).toContain('could not parse as oci variant: number of layers must be 2 but got 1');
      expect(check.err).toContain(
        'could not parse as compat variant: invalid media type application/vnd.module.wasm.content.layer.v1+wasm (expect application/vnd.oci.image.layer.v1.tar+gzip)',
      );
      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`]);
      expect(JSON.parse(raw.stdout).layers).toHaveLength(1);
    });

    it('HEAD-skips existing blobs, mounts across repositories, and tags several names', async () => {
      const proxy = await startFaultProxy(anon.port, () => 'pass');
      try {
        const packed = packWasm({ wasm, name: 'header', version: '0.2.0', created: 1 });
        const all = new Map(packed.blobs);
        all.set(packed.descriptor.digest, packed.manifestBytes);
        const get = (d: { digest: string }) => all.get(d.digest)!;
        const a = await pushContent(`${proxy.host}/team-a/header:0.2.0`, packed.descriptor, get);
        expect(Object.values(a.blobs)).toEqual(['uploaded', 'uploaded']);
        const again = await pushContent(`${proxy.host}/team-a/header:stable,0.2`, packed.descriptor, get);
        expect(Object.values(again.blobs)).toEqual(['exists', 'exists']);
        const b = await pushContent(`${proxy.host}/team-b/header:0.2.0`, packed.descriptor, get, { mountFrom: ['team-a/header'] });
        expect(Object.values(b.blobs)).toEqual(['mounted', 'mounted']);
        // every blob write was preceded by a HEAD, manifests were PUT with the exact media type
        const puts = proxy.requests.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/'));
        expect(puts.map((r) => r.path.split('/manifests/')[1])).toEqual(['0.2.0', 'stable', '0.2', '0.2.0']);
        expect(new Set(puts.map((r) => r.contentType))).toEqual(new Set([MediaType.ociManifest]));
        expect(proxy.requests.filter((r) => r.path.includes('mount=')).length).toBe(2);
        const gets = proxy.requests.filter((r) => r.path.includes('/manifests/') && r.method !== 'PUT');
        expect(gets.every((r) => (r.accept ?? '').includes(MediaType.ociManifest) && (r.accept ?? '').includes(MediaType.ociIndex))).toBe(true);
        const tags = await runCli(['repo', 'tags', `${anon.host}/team-a/header`]);
        expect(tags.out.trim().split('\n')).toEqual(['0.2', '0.2.0', 'stable']);
      } finally {
        await proxy.stop();
      }
    });

    it('uploads in chunks and pulls back verified files; manifest fetch and tag work', async () => {
      const client = new RegistryClient({ chunkSize: 1024 });
      const repo = { registry: anon.host, repository: 'chunked/header' };
      const big = bigWasm(5000, 3);
      expect(await client.pushBlob(repo, big)).toBe('uploaded');
      expect((await client.fetchBlob(repo, { digest: digestOf(big), size: big.length })).equals(big)).toBe(true);

      const ref = `${anon.host}/meshwasm/pulled:1`;
      const push = await runCli(['push-wasm', wasmPath, ref, '--chunk-size', '2048', '--root-id', 'my_root']);
      expect(push.code).toBe(0);
      const out = join(work, 'pulled');
      const res = await runCli(['pull', ref, '-o', out]);
      expect(res.code).toBe(0);
      expect(readFileSync(join(out, 'plugin.wasm')).equals(wasm)).toBe(true);
      expect(JSON.parse(readFileSync(join(out, 'runtime-config.json'), 'utf8')).config.root_ids).toEqual(['my_root']);
      const mf = await runCli(['manifest', 'fetch', ref, '--descriptor']);
      expect(JSON.parse(mf.out)).toMatchObject({ mediaType: MediaType.ociManifest });
      const tag = await runCli(['tag', ref, 'prod', 'canary']);
      expect(tag.code).toBe(0);
      expect(await resolveDigest(`${anon.host}/meshwasm/pulled:canary`)).toBe(JSON.parse(mf.out).digest);
      const layout = join(work, 'pulled-layout');
      const d = await pullToLayout(ref, layout, '1');
      expect((await skopeo(['inspect', '--raw', `oci:${layout}:1`])).stdout).toBe((await fetchManifest(ref)).manifest.toString());
      expect(d).toBe(JSON.parse(mf.out).digest);
    });

    it('names registry error codes and refuses wrong digests', async () => {
      const client = new RegistryClient({ retries: 0 });
      const repo = { registry: anon.host, repository: 'errors/x' };
      await expectRegistryError(client.getManifest(repo, 'nope'), 'MANIFEST_UNKNOWN');
      const cfg = Buffer.from('{}');
      const m = encodeJson({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: digestOf(cfg), size: 2 }, layers: [] });
      await expectRegistryError(client.putManifest(repo, 't', m, MediaType.ociManifest), 'MANIFEST_BLOB_UNKNOWN');
      // the registry refuses content uploaded under a wrong digest …
      await expectRegistryError(client.uploadBlob(repo, Buffer.from('hello'), digestOf('other')), 'DIGEST_INVALID');
      expect(await client.blobExists(repo, digestOf('other'))).toBe(false);
      // … and the client refuses to declare one
      await expectRegistryError(client.pushBlob(repo, Buffer.from('hello'), { digest: digestOf('other') }), 'DIGEST_INVALID');
      const cli = await runCli(['manifest', 'fetch', `${anon.host}/errors/x:missing`]);
      expect(cli.code).toBe(1);
      expect(cli.err).toMatch(/404 MANIFEST_UNKNOWN/);
    });
  });

  describe('faults', () => {
    beforeAll(async () => {
      const r = await runCli(['push-wasm', wasmPath, `${anon.host}/faults/header:0.1.0`]);
      expect(r.code).toBe(0);
    });

    it('resumes a chunked upload after a connection is cut mid-upload', async () => {
      let patches = 0;
      const proxy = await startFaultProxy(anon.port, (method) => (method === 'PATCH' && ++patches === 2 ? 'cut' : 'pass'));
      try {
        const client = new RegistryClient({ chunkSize: 1000, retryBaseMs: 10 });
        const repo = { registry: proxy.host, repository: 'faults/resume' };
        const data = bigWasm(4000, 11);
        expect(await client.pushBlob(repo, data)).toBe('uploaded');
        expect(proxy.requests.some((r) => r.method === 'GET' && r.path.includes('/blobs/uploads/'))).toBe(true);
        expect((await client.fetchBlob({ registry: anon.host, repository: 'faults/resume' }, { digest: digestOf(data), size: data.length })).equals(data)).toBe(true);
      } finally {
        await proxy.stop();
      }
    });

    it('restarts a monolithic upload whose final PUT was cut', async () => {
      let puts = 0;
      const proxy = await startFaultProxy(anon.port, (method, path) => (method === 'PUT' && path.includes('/blobs/uploads/') && ++puts === 1 ? 'cut' : 'pass'));
      try {
        const client = new RegistryClient({ retryBaseMs: 10 });
        const repo = { registry: proxy.host, repository: 'faults/restart' };
        const data = bigWasm(3000, 5);
        expect(await client.pushBlob(repo, data)).toBe('uploaded');
        expect(proxy.requests.filter((r) => r.method === 'POST').length).toBe(2);
        expect(await client.blobExists(repo, digestOf(data))).toBe(true);
      } finally {
        await proxy.stop();
      }
    });

    it('retries 503 and 429 (Retry-After) with backoff, and gives up with the code after the limit', async () => {
      let n = 0;
      const proxy = await startFaultProxy(anon.port, (method, path) => {
        if (!path.includes('/manifests/')) return 'pass';
        n++;
        if (n === 1) return { status: 503 };
        if (n === 2) return { status: 429, headers: { 'Retry-After': '0' } };
        return 'pass';
      });
      try {
        const d = await resolveDigest(`${proxy.host}/faults/header:0.1.0`, { clientOptions: { retryBaseMs: 10 } });
        expect(d).toBe(await resolveDigest(`${anon.host}/faults/header:0.1.0`));
        expect(n).toBe(3);
        n = -100; // from now on: always 503 for the next 100 manifest requests
        const always = await startFaultProxy(anon.port, () => ({ status: 503 }));
        try {
          const client = new RegistryClient({ retries: 2, retryBaseMs: 5 });
          const err = await expectRegistryError(client.getManifest({ registry: always.host, repository: 'faults/header' }, '0.1.0'), 'UNAVAILABLE');
          expect(err.status).toBe(503);
          expect(always.requests.length).toBe(3);
        } finally {
          await always.stop();
        }
      } finally {
        await proxy.stop();
      }
    });

    it('refuses a blob whose bytes were altered in transit', async () => {
      const proxy = await startFaultProxy(anon.port, (method, path) => (method === 'GET' && path.includes('/blobs/sha256:') ? 'tamper' : 'pass'));
      try {
        const out = join(work, 'tampered');
        await expect(pull(`${proxy.host}/faults/header:0.1.0`, out)).rejects.toThrow(/digest mismatch/);
        const check = await runCli(['istio-check', `${proxy.host}/faults/header:0.1.0`]);
        expect(check.code).toBe(1);
        expect(check.err).toMatch(/DIGEST_INVALID|digest mismatch/);
      } finally {
        await proxy.stop();
      }
    });
  });

  describe('htpasswd (basic auth) registry', () => {
    it('refuses anonymous and wrong credentials without leaking the password', async () => {
      await expectRegistryError(resolveDigest(`${basic.host}/x/y:1`), 'UNAUTHORIZED');
      const res = await runCli(['push-wasm', wasmPath, `${basic.host}/x/y:1`, '-u', 'alice', '-p', 'wrong-pass-123']);
      expect(res.code).toBe(1);
      expect(res.err).toContain('UNAUTHORIZED');
      expect(res.err + res.out).not.toContain('wrong-pass-123');
      expect(res.err + res.out).not.toContain(Buffer.from('alice:wrong-pass-123').toString('base64'));
    });

    it('logs in via the docker config, pushes, and skopeo reads with the same credentials', async () => {
      const cfgDir = tempDir('oras-docker-cfg-');
      const env = { DOCKER_CONFIG: cfgDir };
      const login = await runCli(['login', basic.host, '-u', 'alice', '--password-stdin'], env, 'basic-s3cret\n');
      expect(login.err).toBe('');
      expect(login.code).toBe(0);
      expect(login.out).not.toContain('basic-s3cret');
      const push = await runCli(['push-wasm', wasmPath, `${basic.host}/meshwasm/header:0.1.0`, '--format', 'json'], env);
      expect(push.code).toBe(0);
      const digest = JSON.parse(push.out).digest;
      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', '--authfile', join(cfgDir, 'config.json'), `docker://${basic.host}/meshwasm/header:0.1.0`]);
      expect(digestOf(Buffer.from(raw.stdout))).toBe(digest);
      const out = await runCli(['logout', basic.host], env);
      expect(out.code).toBe(0);
      await expectRegistryError(resolveDigest(`${basic.host}/meshwasm/header:0.1.0`, { dockerConfigDir: cfgDir }), 'UNAUTHORIZED');
      rmSync(cfgDir, { recursive: true, force: true });
    });
  });

  describe('token (Bearer) auth registry', () => {
    it('runs the challenge → token → retry flow with service and scopes, including mounts', async () => {
      const cred = new StaticCredentials({ username: 'bob', password: 'token-s3cret' });
      const opts = { client: new RegistryClient({ credentials: cred }) };
      const pkg = packageWasm({ wasmPath, name: 'header', version: '0.1.0', outDir: join(work, 'oci-token') });
      const r = await pushLayout({ ...opts, layoutDir: pkg.layoutDir, ref: `${token.host}/meshwasm/header:0.1.0` });
      expect(r.pushed).toBe(true);
      const m = await pushLayout({ ...opts, layoutDir: pkg.layoutDir, ref: `${token.host}/other/header:0.1.0`, mountFrom: ['meshwasm/header'] });
      expect(Object.values(m.blobs)).toEqual(['mounted', 'mounted']);
      const reqs = token.tokenRequests;
      expect(reqs.every((q) => q.service === 'meshwasm-test' && q.user === 'bob' && q.account === 'bob')).toBe(true);
      expect(reqs.some((q) => q.scopes.includes('repository:meshwasm/header:pull,push'))).toBe(true);
      expect(reqs.some((q) => q.scopes.includes('repository:meshwasm/header:pull') && q.scopes.includes('repository:other/header:pull,push'))).toBe(true);
      // tokens are cached per scope set: far fewer token requests than registry requests
      expect(reqs.length).toBeLessThanOrEqual(8);
      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', 'bob:token-s3cret', `docker://${token.host}/other/header:0.1.0`]);
      expect(digestOf(Buffer.from(raw.stdout))).toBe(pkg.digest);
      expect((await istioCheckRemote(`${token.host}/other/header:0.1.0`, opts)).wasm.equals(wasm)).toBe(true);
    });

    it('gives one Repository per name whose blob, manifest and tag stores share one token per scope set', async () => {
      const client = new RegistryClient({ credentials: new StaticCredentials({ username: 'bob', password: 'token-s3cret' }) });
      const name = { registry: token.host, repository: 'layers/repo' };
      const repo = client.repository(name);
      expect(client.repository({ ...name })).toBe(repo);
      expect(client.repository({ ...name, repository: 'layers/other' })).not.toBe(repo);
      const before = token.tokenRequests.length;
      const cfg = Buffer.from('{"architecture":"wasm"}');
      const layer = bigWasm(3000, 11);
      expect(await repo.blobs.push(cfg)).toBe('uploaded');
      expect(await repo.blobs.push(layer)).toBe('uploaded');
      expect(await repo.blobs.exists(digestOf(layer), true)).toBe(true);
      const manifest = encodeJson({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: digestOf(cfg), size: cfg.length },
        layers: [{ mediaType: MediaType.ociLayerTar, digest: digestOf(layer), size: layer.length }],
      });
      const digest = await repo.manifests.put('1.0.0', manifest, MediaType.ociManifest);
      expect(await repo.manifests.tag('1.0.0', ['latest', 'stable'])).toBe(digest);
      expect((await repo.manifests.head('stable'))?.digest).toBe(digest);
      expect((await repo.manifests.get(digest)).bytes.equals(manifest)).toBe(true);
      expect(await repo.tags()).toEqual(['1.0.0', 'latest', 'stable']);
      // the push scope set and the pull scope set: two tokens for the whole session
      const spent = token.tokenRequests.slice(before);
      expect(spent.map((q) => q.scopes.join(' ')).sort()).toEqual(['repository:layers/repo:pull', 'repository:layers/repo:pull,push']);
      // the facade's shorthands reach the same repository
      expect((await client.fetchBlob(name, { digest: digestOf(layer), size: layer.length })).equals(layer)).toBe(true);
      expect(token.tokenRequests.length).toBe(before + 2);
    });

    it('fails anonymous access with UNAUTHORIZED and bad credentials at the token endpoint', async () => {
      await expectRegistryError(resolveDigest(`${token.host}/meshwasm/header:0.1.0`, { dockerConfigDir: work }), 'UNAUTHORIZED');
      const bad = new RegistryClient({ credentials: new StaticCredentials({ username: 'bob', password: 'nope-nope' }) });
      const err = await expectRegistryError(resolveDigest(`${token.host}/meshwasm/header:0.1.0`, { client: bad }), 'UNAUTHORIZED');
      expect(err.message).toContain('token request');
      expect(err.message).not.toContain('nope-nope');
    });
  });
}
