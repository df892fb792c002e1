/**
 * Fault injection against the real Debian docker-registry: a proxy on 127.0.0.1 (test/harness.ts)
 * sits between the client and the registry and breaks chosen requests. Covered: 5xx answers and
 * connection resets in the middle of blob uploads (retry with backoff, resume or clean restart,
 * nothing tagged before every blob and the manifest are in), truncated and altered blobs on pull
 * (refused, naming the digest), slow and missing answers (bounded, configurable timeouts), 401
 * in the middle of a push (a new token), and credentials in output (never).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pull, pushContent, resolveDigest } from '../src/api';
import { StaticCredentials } from '../src/auth';
import { main } from '../src/cli';
import { digestOf } from '../src/media';
import { packWasm } from '../src/pack';
import { RegistryClient, RegistryError, type RegistryClientOptions } from '../src/registry';
import { bigWasm } from './helpers';
import { describeMissingComponents, missingComponents, skopeo, startFaultProxy, startRegistry, tempDir, type FaultAction, type ProxyHandle, type RegistryHandle } from './harness';

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

async function caught(p: Promise<unknown>): Promise<RegistryError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RegistryError);
    return e as RegistryError;
  }
  throw new Error('expected the operation to fail');
}

const isStart = (m: string, p: string) => m === 'POST' && /\/blobs\/uploads\/(\?|$)/.test(p);
const isPatch = (m: string) => m === 'PATCH';
const isBlobPut = (m: string, p: string) => m === 'PUT' && p.includes('/blobs/uploads/');
const isStatus = (m: string, p: string) => m === 'GET' && p.includes('/blobs/uploads/');
const isManifestPut = (m: string, p: string) => m === 'PUT' && p.includes('/manifests/');
const count = (proxy: ProxyHandle, pred: (m: string, p: string) => boolean) => proxy.requests.filter((r) => pred(r.method, r.path)).length;

if (missing.length > 0) {
  describeMissingComponents('tools/oras fault injection (real registry)', missing);
} else {
  const work = tempDir('oras-faults-');
  let anon: RegistryHandle;
  let token: RegistryHandle;
  /** How many of the next token requests the token endpoint answers 503. */
  let tokenFailNext = 0;
  const proxies: ProxyHandle[] = [];
  const proxy = async (target: RegistryHandle, decide: (method: string, path: string, n: number) => FaultAction) => {
    const p = await startFaultProxy(target.port, decide);
    proxies.push(p);
    return p;
  };
  /** A client with short backoffs that records its log lines. */
  const client = (opts: RegistryClientOptions = {}) => {
    const log: string[] = [];
    return { log, c: new RegistryClient({ retryBaseMs: 10, log: (l) => log.push(l), ...opts }) };
  };
  /** The blob as the registry itself serves it (no proxy). */
  const stored = (repository: string, data: Buffer) =>
    new RegistryClient().fetchBlob({ registry: anon.host, repository }, { digest: digestOf(data), size: data.length });

  beforeAll(async () => {
    [anon, token] = await Promise.all([
      startRegistry(),
      startRegistry({ auth: 'token', user: 'carol', password: 'fault-s3cret-pw', tokenFault: () => (tokenFailNext > 0 ? (tokenFailNext--, 503) : undefined) }),
    ]);
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.stop()));
    await Promise.all([anon?.stop(), token?.stop()]);
    rmSync(work, { recursive: true, force: true });
  });

  describe('push: 5xx and resets in the middle of a blob upload', () => {
    it('a 5xx on a chunk: backs off, asks the session where it stands and resumes (one upload session)', async () => {
      let patches = 0;
      const p = await proxy(anon, (m) => (isPatch(m) && ++patches === 2 ? { status: 500 } : 'pass'));
      const { c, log } = client({ chunkSize: 1000 });
      const data = bigWasm(4000, 21);
      expect(await c.pushBlob({ registry: p.host, repository: 'f/chunk-500' }, data)).toBe('uploaded');
      expect(count(p, isStart)).toBe(1);
      const failed = p.requests.findIndex((r) => r.fault.startsWith('status=500'));
      expect(p.requests.slice(failed + 1).some((r) => isStatus(r.method, r.path))).toBe(true);
      expect(log.join('\n')).toMatch(/chunk 1000-1999: 500 UNAVAILABLE.*; retrying in 10 ms/);
      expect(log.join('\n')).toMatch(/resuming at 1000/);
      expect((await stored('f/chunk-500', data)).equals(data)).toBe(true);
    });

    // distribution 2.8 refuses a status query (and any resume) with an upload state older than the
    // bytes it holds, so the client must give that session up and start a clean one.
    it('a 5xx after the registry took the chunk: the stale session is cancelled and the upload restarts cleanly', async () => {
      let patches = 0;
      const p = await proxy(anon, (m) => (isPatch(m) && ++patches === 2 ? { statusAfterForward: 502 } : 'pass'));
      const { c, log } = client({ chunkSize: 1000 });
      const data = bigWasm(4000, 22);
      expect(await c.pushBlob({ registry: p.host, repository: 'f/chunk-502-after' }, data)).toBe('uploaded');
      expect(count(p, isStart)).toBe(2);
      const firstSession = p.requests.find((r) => isPatch(r.method))!.path.split('?')[0];
      expect(p.requests.some((r) => r.method === 'DELETE' && r.path.startsWith(firstSession))).toBe(true);
      expect(log.join('\n')).toMatch(/cannot be resumed\); restarting in 10 ms/);
      expect((await stored('f/chunk-502-after', data)).equals(data)).toBe(true);
    });

    it('a reset in the middle of a chunk body: the blob stored is exactly the blob pushed', async () => {
      let patches = 0;
      const p = await proxy(anon, (m) => (isPatch(m) && ++patches === 3 ? { cutRequestAfter: 300 } : 'pass'));
      const { c } = client({ chunkSize: 1000 });
      const data = bigWasm(4000, 23);
      expect(await c.pushBlob({ registry: p.host, repository: 'f/chunk-reset' }, data)).toBe('uploaded');
      expect(p.requests.some((r) => r.fault === 'cutRequestAfter=300')).toBe(true);
      expect(count(p, isStart)).toBe(2);
      expect((await stored('f/chunk-reset', data)).equals(data)).toBe(true);
    });

    it('a reset in the middle of a monolithic PUT body: restarts the upload in a new session', async () => {
      let puts = 0;
      const p = await proxy(anon, (m, path) => (isBlobPut(m, path) && ++puts === 1 ? { cutRequestAfter: 1000 } : 'pass'));
      const { c, log } = client();
      const data = bigWasm(3000, 24);
      expect(await c.pushBlob({ registry: p.host, repository: 'f/put-reset' }, data)).toBe('uploaded');
      expect(count(p, isStart)).toBe(2);
      expect(log.join('\n')).toMatch(/restarting in \d+ ms/);
      expect((await stored('f/put-reset', data)).equals(data)).toBe(true);
    });

    it('a 5xx on the final PUT after the registry committed the blob: sees it landed, no second upload', async () => {
      const p = await proxy(anon, (m, path) => (isBlobPut(m, path) ? { statusAfterForward: 500 } : 'pass'));
      const { c } = client();
      const data = bigWasm(2000, 25);
      expect(await c.pushBlob({ registry: p.host, repository: 'f/put-500-after' }, data)).toBe('uploaded');
      expect(count(p, isStart)).toBe(1);
      expect(count(p, isBlobPut)).toBe(1);
      expect((await stored('f/put-500-after', data)).equals(data)).toBe(true);
    });

    it('a chunk that always fails: gives up after the configured resumes and restarts, naming the digest', async () => {
      const p = await proxy(anon, (m) => (isPatch(m) ? { status: 503 } : 'pass'));
      const { c } = client({ chunkSize: 1000, uploadResumes: 2, uploadRestarts: 1 });
      const data = bigWasm(3000, 26);
      const err = await caught(c.pushBlob({ registry: p.host, repository: 'f/always-503' }, data));
      expect(err.message).toContain(digestOf(data));
      expect(err.status).toBe(503);
      // (1 + 1 restart) sessions, each (1 + 2 resumes) tries of its chunk: bounded in count
      expect(count(p, isStart)).toBe(2);
      expect(count(p, isPatch)).toBe(6);
      expect(await new RegistryClient().blobExists({ registry: anon.host, repository: 'f/always-503' }, digestOf(data))).toBe(false);
    });
  });

  describe('push: nothing is tagged until every blob and the manifest are in', () => {
    const wasm = bigWasm(5000, 31);
    const wasmPath = join(work, 'faulty.wasm');
    beforeAll(() => writeFileSync(wasmPath, wasm));

    it('survives a 503 on opening an upload, a reset mid-chunk and a 500 on the manifest; tags last', async () => {
      let starts = 0;
      let patches = 0;
      let manifestPuts = 0;
      const p = await proxy(anon, (m, path) => {
        if (isStart(m, path) && ++starts === 1) return { status: 503 };
        if (isPatch(m) && ++patches === 2) return { cutRequestAfter: 500 };
        if (isManifestPut(m, path) && ++manifestPuts === 1) return { status: 500 };
        return 'pass';
      });
      const ref = `${p.host}/f/tagged:1.0.0`;
      const res = await runCli(['push-wasm', wasmPath, ref, '--chunk-size', '2048', '--format', 'json', '--created', '0']);
      expect(res.err).toBe('');
      expect(res.code).toBe(0);
      const digest = JSON.parse(res.out).digest as string;
      const firstManifestPut = p.requests.findIndex((r) => isManifestPut(r.method, r.path));
      const lastBlobWrite = p.requests.map((r) => isBlobPut(r.method, r.path) || isPatch(r.method) || isStart(r.method, r.path)).lastIndexOf(true);
      expect(firstManifestPut).toBeGreaterThan(lastBlobWrite);
      expect(manifestPuts).toBe(2);
      const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${anon.host}/f/tagged:1.0.0`]);
      expect(digestOf(Buffer.from(raw.stdout))).toBe(digest);
      const out = join(work, 'tagged-pull');
      await pull(`${anon.host}/f/tagged:1.0.0`, out);
      expect(existsSync(join(out, 'plugin.wasm'))).toBe(true);
    });

    it('a blob that cannot be uploaded fails the push: no manifest PUT, no tag', async () => {
      const packed = packWasm({ wasm, name: 'untagged', version: '1.0.0', created: 0 });
      const layer = (JSON.parse(packed.manifestBytes.toString()) as { layers: { digest: string; mediaType: string }[] }).layers.find((l) => l.mediaType.includes('wasm'))!;
      const p = await proxy(anon, (m, path) => {
        // every upload session of the wasm layer dies at its final PUT
        if (isBlobPut(m, path) && path.includes(encodeURIComponent(layer.digest))) return { status: 503 };
        return 'pass';
      });
      const all = new Map(packed.blobs);
      all.set(packed.descriptor.digest, packed.manifestBytes);
      const err = await caught(
        pushContent(`${p.host}/f/untagged:1.0.0`, packed.descriptor, (d) => all.get(d.digest)!, { clientOptions: { retryBaseMs: 10 } }),
      );
      expect(err.message).toContain(layer.digest);
      expect(count(p, isManifestPut)).toBe(0);
      expect(await new RegistryClient().headManifest({ registry: anon.host, repository: 'f/untagged' }, '1.0.0')).toBeUndefined();
      expect(await new RegistryClient().blobExists({ registry: anon.host, repository: 'f/untagged' }, layer.digest)).toBe(false);
    });
  });

  describe('pull: truncated blobs and wrong digests are refused, naming the digest', () => {
    const wasm = bigWasm(6000, 41);
    const wasmPath = join(work, 'pulled.wasm');
    let wasmDigest: string;
    beforeAll(async () => {
      writeFileSync(wasmPath, wasm);
      wasmDigest = digestOf(wasm);
      const r = await runCli(['push-wasm', wasmPath, `${anon.host}/f/pull:1`, '--created', '0']);
      expect(r.code).toBe(0);
    });
    const isWasmGet = (m: string, path: string) => m === 'GET' && path.endsWith(`/blobs/${wasmDigest}`);

    it('a connection reset in the middle of a blob: retried, then refused with the digest', async () => {
      let n = 0;
      const once = await proxy(anon, (m, path) => (isWasmGet(m, path) && ++n === 1 ? { cutResponseAfter: 1000 } : 'pass'));
      const out = join(work, 'pull-once');
      const ok = await pull(`${once.host}/f/pull:1`, out, { clientOptions: { retryBaseMs: 10 } });
      expect(ok.files.map((f) => f.digest)).toContain(wasmDigest);
      expect(n).toBe(2);

      const always = await proxy(anon, (m, path) => (isWasmGet(m, path) ? { cutResponseAfter: 1000 } : 'pass'));
      const out2 = join(work, 'pull-always');
      const err = await caught(pull(`${always.host}/f/pull:1`, out2, { clientOptions: { retryBaseMs: 10, retries: 2 } }));
      expect(err.code).toBe('CONNECTION');
      expect(err.message).toBe(
        `GET ${always.host}/f/pull blob ${wasmDigest}: answer truncated after 1000 of ${wasm.length} bytes ` +
          '(connection failed: connection closed by the other side (UND_ERR_SOCKET)) (3 tries)',
      );
      expect(always.requests.filter((r) => isWasmGet(r.method, r.path)).length).toBe(3);
      expect(existsSync(join(out2, 'plugin.wasm'))).toBe(false);
    });

    it('a 5xx and a truncated body share one retry budget', async () => {
      let n = 0;
      const p = await proxy(anon, (m, path) => (isWasmGet(m, path) ? (++n === 1 ? { status: 503 } : { cutResponseAfter: 500 }) : 'pass'));
      const err = await caught(pull(`${p.host}/f/pull:1`, join(work, 'pull-budget'), { clientOptions: { retryBaseMs: 10, retries: 1 } }));
      expect(err.message).toMatch(/answer truncated after 500 of \d+ bytes .* \(2 tries\)$/);
      expect(n).toBe(2);
    });

    it('a short body with a matching Content-Length: SIZE_INVALID with the digest and both sizes', async () => {
      const p = await proxy(anon, (m, path) => (isWasmGet(m, path) ? { shortBody: 4000 } : 'pass'));
      const err = await caught(pull(`${p.host}/f/pull:1`, join(work, 'pull-short'), { clientOptions: { retryBaseMs: 10 } }));
      expect(err.code).toBe('SIZE_INVALID');
      expect(err.message).toContain(wasmDigest);
      expect(err.message).toContain(`${wasm.length}`);
      expect(err.message).toContain('4000');
    });

    it('altered bytes: DIGEST_INVALID naming the expected digest; the CLI writes nothing', async () => {
      const p = await proxy(anon, (m, path) => (isWasmGet(m, path) ? 'tamper' : 'pass'));
      const err = await caught(pull(`${p.host}/f/pull:1`, join(work, 'pull-tamper')));
      expect(err.code).toBe('DIGEST_INVALID');
      expect(err.message).toMatch(new RegExp(`^blob ${wasmDigest}: digest mismatch \\(DIGEST_INVALID\\): the content hashes to sha256:[0-9a-f]{64}; refused$`));
      const out = join(work, 'pull-tamper-cli');
      const cli = await runCli(['pull', `${p.host}/f/pull:1`, '-o', out]);
      expect(cli.code).toBe(1);
      expect(cli.err).toContain(wasmDigest);
      expect(cli.err).toContain('DIGEST_INVALID');
      expect(existsSync(join(out, 'plugin.wasm'))).toBe(false);
      expect(existsSync(join(out, 'runtime-config.json'))).toBe(false);
    });

    it('an altered manifest: refused by digest reference and against Docker-Content-Digest', async () => {
      const digest = await resolveDigest(`${anon.host}/f/pull:1`);
      const p = await proxy(anon, (m, path) => (m === 'GET' && path.includes('/manifests/') ? 'tamper' : 'pass'));
      const byDigest = await caught(pull(`${p.host}/f/pull@${digest}`, join(work, 'pull-m1')));
      expect(byDigest.code).toBe('DIGEST_INVALID');
      expect(byDigest.message).toContain(digest);
      const byTag = await caught(pull(`${p.host}/f/pull:1`, join(work, 'pull-m2')));
      expect(byTag.code).toBe('DIGEST_INVALID');
      expect(byTag.message).toContain(digest);
    });
  });

  describe('slow answers: bounded, configurable timeouts', () => {
    beforeAll(async () => {
      const wasmPath = join(work, 'slow.wasm');
      writeFileSync(wasmPath, bigWasm(6000, 41));
      const r = await runCli(['push-wasm', wasmPath, `${anon.host}/f/slow:1`, '--created', '0']);
      expect(r.code).toBe(0);
    });

    it('a registry that never answers: each try times out, retries are bounded, the error says so', async () => {
      const p = await proxy(anon, (m, path) => (path.includes('/manifests/') ? 'hang' : 'pass'));
      const { c } = client({ timeoutMs: 200, retries: 1 });
      const err = await caught(c.getManifest({ registry: p.host, repository: 'f/slow' }, '1'));
      expect(err.code).toBe('TIMEOUT');
      expect(err.message).toBe(`GET ${p.host}/v2/f/slow/manifests/1: no answer within 200 ms (2 tries)`);
      expect(p.requests.filter((r) => r.path.includes('/manifests/')).length).toBe(2);
    });

    it('one slow answer: the next try succeeds', async () => {
      let n = 0;
      const p = await proxy(anon, (m, path) => (path.includes('/manifests/') && ++n === 1 ? { delayMs: 5000 } : 'pass'));
      const { c, log } = client({ timeoutMs: 1000 });
      const m = await c.getManifest({ registry: p.host, repository: 'f/slow' }, '1');
      expect(m.descriptor.digest).toBe(await resolveDigest(`${anon.host}/f/slow:1`));
      expect(log.join('\n')).toMatch(/no answer within 1000 ms; retrying/);
      expect(n).toBe(2);
    });

    it('a blob body that stalls half way: refused with the digest after bounded tries', async () => {
      const blob = bigWasm(6000, 41);
      const digest = digestOf(blob);
      const p = await proxy(anon, (m, path) => (m === 'GET' && path.endsWith(`/blobs/${digest}`) ? { stallResponseAfter: 2000 } : 'pass'));
      const { c } = client({ timeoutMs: 1000, retries: 1 });
      const err = await caught(c.fetchBlob({ registry: p.host, repository: 'f/slow' }, { digest, size: blob.length }));
      expect(err.code).toBe('TIMEOUT');
      expect(err.message).toContain(digest);
      expect(err.message).toMatch(/: answer stalled after 2000 of \d+ bytes \(no answer within 1000 ms\) \(2 tries\)$/);
      expect(p.requests.filter((r) => r.path.endsWith(digest)).length).toBe(2);
    });

    it('a chunk that gets no answer: times out, then resumes the upload', async () => {
      let patches = 0;
      const p = await proxy(anon, (m) => (isPatch(m) && ++patches === 2 ? 'hang' : 'pass'));
      const { c, log } = client({ chunkSize: 1000, timeoutMs: 1500 });
      const data = bigWasm(3500, 51);
      expect(await c.pushBlob({ registry: p.host, repository: 'f/slow-chunk' }, data)).toBe('uploaded');
      expect(log.join('\n')).toMatch(/chunk 1000-1999: PATCH .*: no answer within 1500 ms; retrying in 10 ms/);
      expect(count(p, isStart)).toBe(1);
      expect((await stored('f/slow-chunk', data)).equals(data)).toBe(true);
    });

    it('a Retry-After of an hour waits no longer than maxRetryDelayMs', async () => {
      let n = 0;
      const p = await proxy(anon, (m, path) => (path.includes('/manifests/') && ++n === 1 ? { status: 503, headers: { 'Retry-After': '3600' } } : 'pass'));
      const { c, log } = client({ maxRetryDelayMs: 50 });
      expect((await c.getManifest({ registry: p.host, repository: 'f/slow' }, '1')).descriptor.digest).toMatch(/^sha256:/);
      expect(log).toContain(`GET ${p.host}/v2/f/slow/manifests/1: 503; retrying in 50 ms`);
    });

    it('the CLI takes --timeout in seconds and refuses a bad value', async () => {
      const p = await proxy(anon, () => 'hang');
      const res = await runCli(['resolve', `${p.host}/f/slow:1`, '--timeout', '0.2', '--retries', '0']);
      expect(res.code).toBe(1);
      expect(res.err).toMatch(/no answer within 200 ms/);
      expect(p.requests.length).toBe(1);
      const bad = await runCli(['resolve', `${p.host}/f/slow:1`, '--timeout', 'soon']);
      expect(bad.code).toBe(2);
      expect(bad.err).toContain('--timeout must be a positive number of seconds');
    });
  });

  describe('token auth through the fault proxy', () => {
    const wasm = bigWasm(5000, 61);
    const wasmPath = join(work, 'token.wasm');
    beforeAll(() => writeFileSync(wasmPath, wasm));
    const creds = () => new StaticCredentials({ username: 'carol', password: 'fault-s3cret-pw' });

    it('a 401 in the middle of a push (token revoked): fetches a new token and carries on', async () => {
      let patches = 0;
      const p = await proxy(token, (m) => (isPatch(m) && ++patches === 2 ? { stripAuth: true } : 'pass'));
      const c = new RegistryClient({ credentials: creds(), chunkSize: 1500, retryBaseMs: 10 });
      const before = token.tokenRequests.length;
      const packed = packWasm({ wasm, name: 'tok', version: '1', created: 0 });
      const all = new Map(packed.blobs);
      all.set(packed.descriptor.digest, packed.manifestBytes);
      const r = await pushContent(`${p.host}/f/token:1`, packed.descriptor, (d) => all.get(d.digest)!, { client: c, chunkSize: 1500 });
      expect(r.pushed).toBe(true);
      const stripped = p.requests.findIndex((x) => x.fault === 'stripAuth=true');
      expect(stripped).toBeGreaterThan(0);
      // the stripped PATCH was sent again, with a bearer token
      expect(p.requests[stripped + 1]).toMatchObject({ method: 'PATCH', authScheme: 'Bearer' });
      const used = token.tokenRequests.length - before;
      expect(used).toBeGreaterThanOrEqual(2);
      expect(await resolveDigest(`${p.host}/f/token:1`, { client: c })).toBe(packed.descriptor.digest);
    });

    it('a 503 from the token endpoint is retried', async () => {
      tokenFailNext = 2;
      const { c, log } = client({ credentials: creds() });
      try {
        expect(await resolveDigest(`${token.host}/f/token:1`, { client: c })).toMatch(/^sha256:/);
        expect(tokenFailNext).toBe(0);
        expect(log.filter((l) => /token request .*: 503; retrying/.test(l))).toHaveLength(2);
      } finally {
        tokenFailNext = 0;
      }
    });

    it('credentials and tokens never appear in any output, with --debug or --verbose, on success and failure', async () => {
      const secrets = () => ['fault-s3cret-pw', Buffer.from('carol:fault-s3cret-pw').toString('base64'), ...token.issuedTokens];
      let n = 0;
      const noisy = await proxy(token, (m, path) => {
        n++;
        if (isStart(m, path) && n < 6) return { status: 503 };
        if (isPatch(m) && n % 3 === 0) return { stripAuth: true };
        if (isManifestPut(m, path) && n % 2 === 0) return { cutRequestAfter: 10 };
        return 'pass';
      });
      const ok = await runCli(['push-wasm', wasmPath, `${noisy.host}/f/secret:1`, '-u', 'carol', '-p', 'fault-s3cret-pw', '--debug', '--chunk-size', '1500']);
      expect(ok.err).toMatch(/^debug: PUT 127\.0\.0\.1:\d+\/v2\/f\/secret\/manifests\/1 -> 201 \(Bearer auth\)$/m);
      expect(ok.code).toBe(0);
      const echo = await proxy(token, (m, path) => (isManifestPut(m, path) ? { echoAuth: 400 } : 'pass'));
      const bad = await runCli(['push-wasm', wasmPath, `${echo.host}/f/secret:2`, '-u', 'carol', '--password-stdin', '--verbose'], {}, 'fault-s3cret-pw\n');
      expect(bad.code).toBe(1);
      expect(bad.err).toContain('DENIED');
      expect(bad.err).toContain('bad request with authorization Bearer ***');
      const cfg = tempDir('oras-faults-cfg-');
      const login = await runCli(['login', echo.host, '-u', 'carol', '--password-stdin', '-d'], { DOCKER_CONFIG: cfg }, 'fault-s3cret-pw\n');
      expect(login.code).toBe(0);
      const fromConfig = await runCli(['push-wasm', wasmPath, `${echo.host}/f/secret:3`, '-d'], { DOCKER_CONFIG: cfg });
      expect(fromConfig.code).toBe(1);
      const wrong = await runCli(['resolve', `${echo.host}/f/secret:1`, '-u', 'carol', '-p', 'not-the-pw-123', '-d']);
      expect(wrong.code).toBe(1);
      expect(wrong.err).toContain('UNAUTHORIZED');
      rmSync(cfg, { recursive: true, force: true });
      const everything = [ok, bad, login, fromConfig, wrong].map((r) => r.out + r.err).join('\n');
      expect(token.issuedTokens.length).toBeGreaterThan(3);
      for (const s of [...secrets(), 'not-the-pw-123', Buffer.from('carol:not-the-pw-123').toString('base64')]) expect(everything).not.toContain(s);
    });
  });
}
