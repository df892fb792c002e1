/**
 * OCI distribution-spec client, in layers: the transport (src/transport.ts: timeouts, redirects,
 * bounded retries with backoff), the auth wrapper here (Basic and the Bearer token flow, 401 →
 * challenge → token → again), and the repository operations on top: blob upload (HEAD-skip,
 * cross-repo mount, monolithic and chunked with resume/restart), manifests with exact content
 * types, digest verification on every read.
 */
import { parseWwwAuthenticate, secretsOf, validateRealm, type Credential, type CredentialStore } from './auth';
import { MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPES, assertDigest, digestOf, isDigest, type Descriptor } from './media';
import { apiHost, isLoopbackRegistry } from './reference';
import { RegistryError, Transport, sleep, type RetryBudget, type TransportOptions } from './transport';

export interface Repo {
  registry: string;
  repository: string;
}

export { RegistryError };

/** Transport options (retries, retryBaseMs, maxRetryDelayMs, timeoutMs, userAgent) and the client's own. */
export interface RegistryClientOptions extends TransportOptions {
  /** Use http:// for every registry (default: only for localhost/127.0.0.1/::1). */
  plainHttp?: boolean;
  credentials?: CredentialStore;
  /** Blobs larger than this are uploaded in PATCH chunks of this size (default: monolithic up to 64 MiB). */
  chunkSize?: number;
  /** Receives progress/diagnostic lines (never secrets). */
  log?: (line: string) => void;
  /** Times one upload session resumes after a failed chunk, asking the registry for its offset (default 3). */
  uploadResumes?: number;
  /** Fresh upload sessions after the first one of a blob fails (default 2). */
  uploadRestarts?: number;
}

export type BlobPushResult = 'exists' | 'mounted' | 'uploaded';

interface RequestOptions {
  headers?: Record<string, string>;
  body?: Buffer;
  /** Auth scopes, e.g. `repository:a/b:pull,push`. */
  scopes?: string[];
  /** Safe to retry on 429/5xx/connection errors. */
  idempotent?: boolean;
  /** Retries already spent on this operation (shared with a caller that retries too, e.g. body reads). */
  budget?: RetryBudget;
}

interface HostAuth {
  scheme?: 'basic' | 'bearer';
  realm?: URL;
  service?: string;
  tokens: Map<string, { token: string; expires: number }>;
}

const DEFAULT_MONOLITHIC_LIMIT = 64 * 1024 * 1024;
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export function scopeFor(repository: string, actions: string): string {
  return `repository:${repository}:${actions}`;
}

/** Merges scopes per resource: `repository:a:pull` + `repository:a:push` → `repository:a:pull,push`. */
export function mergeScopes(scopes: string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  for (const raw of scopes) {
    for (const s of raw.split(/\s+/).filter(Boolean)) {
      const i = s.lastIndexOf(':');
      if (i <= 0) continue;
      const res = s.slice(0, i);
      const set = byResource.get(res) ?? new Set<string>();
      for (const a of s.slice(i + 1).split(',')) if (a) set.add(a);
      byResource.set(res, set);
    }
  }
  return [...byResource.keys()].sort().map((r) => `${r}:${[...byResource.get(r)!].sort().join(',')}`);
}

const RETRYABLE_UPLOAD_CODES = new Set(['CONNECTION', 'TIMEOUT', 'BLOB_UPLOAD_UNKNOWN', 'BLOB_UPLOAD_INVALID']);

export class RegistryClient {
  private readonly auth = new Map<string, HostAuth>();
  private readonly secrets = new Set<string>();
  private readonly credCache = new Map<string, Credential | undefined>();
  readonly options: RegistryClientOptions;
  private readonly transport: Transport;

  constructor(options: RegistryClientOptions = {}) {
    this.options = options;
    this.transport = new Transport(options, (l) => this.log(l), (t) => this.scrub(t));
  }

  /** Base URL of a registry: http only for loopback hosts or when plainHttp is set. */
  baseUrl(registry: string): URL {
    const scheme = this.options.plainHttp || isLoopbackRegistry(registry) ? 'http' : 'https';
    return new URL(`${scheme}://${apiHost(registry)}`);
  }

  private credential(registry: string): Credential | undefined {
    if (!this.credCache.has(registry)) {
      const c = this.options.credentials?.get(registry);
      for (const s of secretsOf(c)) this.secrets.add(s);
      this.credCache.set(registry, c);
    }
    return this.credCache.get(registry);
  }

  /** Removes any known secret from a message. */
  scrub(msg: string): string {
    let out = msg;
    for (const s of this.secrets) out = out.split(s).join('***');
    return out;
  }

  private log(line: string): void {
    this.options.log?.(this.scrub(line));
  }

  private get retries(): number {
    return this.transport.retries;
  }

  private backoff(attempt: number, retryAfter?: string | null): number {
    return this.transport.backoff(attempt, retryAfter);
  }

  private readBody(res: Response, what: string, limit?: number): Promise<Buffer> {
    return this.transport.readBody(res, what, limit);
  }

  /**
   * A GET whose body is read inside the retry budget: a reset or stall in the middle of the answer
   * is retried like one before it. Non-200 answers raise.
   */
  private async getWhole(registry: string, pathOrUrl: string | URL, opts: RequestOptions, what: string, limit?: number): Promise<{ res: Response; body: Buffer }> {
    const budget: RetryBudget = { retried: 0 };
    for (;;) {
      const res = await this.request(registry, 'GET', pathOrUrl, { ...opts, budget });
      if (res.status !== 200) return this.raise(res, what);
      try {
        return { res, body: await this.readBody(res, what, limit) };
      } catch (err) {
        if (!(err instanceof RegistryError) || budget.retried >= this.retries) {
          if (err instanceof RegistryError && budget.retried > 0) this.fail(`${err.message} (${budget.retried + 1} tries)`, err.status, err.code);
          throw err;
        }
        const wait = this.backoff(budget.retried);
        this.log(`${err.message}; retrying in ${wait} ms`);
        budget.retried++;
        await sleep(wait);
      }
    }
  }

  private fail(message: string, status?: number, code?: string): never {
    throw new RegistryError(this.scrub(message), status, code);
  }

  private hostAuth(registry: string): HostAuth {
    let a = this.auth.get(registry);
    if (!a) {
      a = { tokens: new Map() };
      this.auth.set(registry, a);
    }
    return a;
  }

  /** The Authorization header for a request, and whether it is a token cached from an earlier request. */
  private async authorization(registry: string, scopes: string[]): Promise<{ header: string; cached: boolean } | undefined> {
    const a = this.hostAuth(registry);
    const cred = this.credential(registry);
    if (a.scheme === 'basic') {
      if (cred?.username !== undefined && cred.password !== undefined) {
        return { header: `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`, cached: false };
      }
      return undefined;
    }
    if (a.scheme === 'bearer') {
      if (cred?.registryToken) return { header: `Bearer ${cred.registryToken}`, cached: false };
      const merged = mergeScopes(scopes);
      const key = merged.join(' ');
      const cached = a.tokens.get(key);
      if (cached && cached.expires > Date.now()) return { header: `Bearer ${cached.token}`, cached: true };
      const token = await this.fetchToken(registry, a, merged);
      return { header: `Bearer ${token}`, cached: false };
    }
    return undefined;
  }

  /**
   * Fetches a token from the realm (GET with Basic credentials, or the OAuth2 refresh-token POST);
   * 429, 5xx and transport failures are retried by the transport like registry requests.
   */
  private async fetchToken(registry: string, a: HostAuth, scopes: string[]): Promise<string> {
    const realm = a.realm!;
    const endpoint = `${realm.origin}${realm.pathname}`;
    const cred = this.credential(registry);
    const headers: Record<string, string> = {};
    const url = new URL(realm);
    let form: string | undefined;
    if (cred?.identityToken) {
      const params = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cred.identityToken, client_id: 'meshwasm-oras' });
      if (a.service) params.set('service', a.service);
      if (scopes.length) params.set('scope', scopes.join(' '));
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      form = params.toString();
    } else {
      if (a.service) url.searchParams.set('service', a.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      if (cred?.username && cred.password !== undefined) {
        url.searchParams.set('account', cred.username);
        headers.Authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
      }
    }
    let res: Response;
    let text: string;
    try {
      ({ res } = await this.transport.send({
        method: form === undefined ? 'GET' : 'POST',
        url,
        headers,
        body: form,
        followRedirects: false,
        label: `token request to ${endpoint}`,
      }));
      text = (await this.readBody(res, `token request to ${endpoint}`)).toString('utf8');
    } catch (err) {
      const e = err as RegistryError;
      this.fail(`${e.message.replace(/^token request to \S+: /, `token request to ${endpoint} failed: `)}`, e.status, e.code);
    }
    if (!res.ok) {
      const { code, message } = parseErrorBody(text);
      this.fail(
        `token request to ${endpoint} failed: ${res.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}${res.status === 401 ? ' (check credentials)' : ''}`,
        res.status,
        code ?? (res.status === 401 ? 'UNAUTHORIZED' : res.status === 403 ? 'DENIED' : undefined),
      );
    }
    let body: { token?: string; access_token?: string; expires_in?: number };
    try {
      body = JSON.parse(text);
    } catch {
      this.fail(`token response from ${endpoint} is not JSON`);
    }
    const token = body.token || body.access_token;
    if (!token) this.fail(`token response from ${endpoint} has no token`);
    this.secrets.add(token);
    const ttl = Math.max(10, Number(body.expires_in) || 60);
    a.tokens.set(scopes.join(' '), { token, expires: Date.now() + (ttl - 5) * 1000 });
    return token;
  }

  /**
   * Records a 401 challenge; says whether trying again can help: a first challenge, a new scope,
   * or a cached token the registry no longer takes (expired or revoked: fetch a new one, once).
   */
  private learnChallenge(registry: string, header: string | null, scopes: string[], sentCachedToken: boolean): { retry: boolean; scopes: string[] } {
    const a = this.hostAuth(registry);
    const challenges = parseWwwAuthenticate(header ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    const cred = this.credential(registry);
    if (bearer) {
      if (!bearer.params.realm) this.fail(`registry ${registry} sent a Bearer challenge without realm`);
      const realm = validateRealm(bearer.params.realm, this.baseUrl(registry));
      const merged = mergeScopes([...scopes, ...(bearer.params.scope ? [bearer.params.scope] : [])]);
      const firstTime = a.scheme !== 'bearer';
      const key = merged.join(' ');
      const had = a.tokens.has(key);
      a.scheme = 'bearer';
      a.realm = realm;
      a.service = bearer.params.service;
      a.tokens.delete(key);
      if (sentCachedToken) a.tokens.delete(mergeScopes(scopes).join(' '));
      return { retry: firstTime || !had || sentCachedToken || merged.length > mergeScopes(scopes).length, scopes: merged };
    }
    if (basic) {
      const first = a.scheme !== 'basic';
      a.scheme = 'basic';
      return { retry: first && !!cred?.username, scopes };
    }
    return { retry: false, scopes };
  }

  /**
   * One request through the auth layer: the transport sends it (timeouts, redirects, bounded
   * retries); a 401 teaches the challenge and the request goes again with new credentials (twice
   * at most). The caller consumes the body.
   */
  async request(registry: string, method: string, pathOrUrl: string | URL, opts: RequestOptions = {}): Promise<Response> {
    let scopes = opts.scopes ?? [];
    const budget = opts.budget ?? { retried: 0 };
    const url = pathOrUrl instanceof URL ? pathOrUrl : new URL(pathOrUrl, this.baseUrl(registry));
    for (let authRetries = 0; ; authRetries++) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const authz = await this.authorization(registry, scopes);
      if (authz) headers.Authorization = authz.header;
      const { res } = await this.transport.send({ method, url, headers, body: opts.body, idempotent: opts.idempotent !== false, budget });
      if (res.status === 401 && authRetries < 2) {
        const learned = this.learnChallenge(registry, res.headers.get('www-authenticate'), scopes, authz?.cached ?? false);
        if (learned.retry) {
          await res.body?.cancel();
          scopes = learned.scopes;
          continue;
        }
      }
      return res;
    }
  }

  /** Reads an error answer: `503 UNAVAILABLE: message (detail)` and the registry's code. */
  private async errorOf(res: Response): Promise<{ summary: string; code?: string }> {
    let text = '';
    try {
      text = await res.text();
    } catch {
      /* the answer broke off: the status says enough */
    }
    const { code, message, detail } = parseErrorBody(text);
    const fallback =
      res.status === 401 ? 'UNAUTHORIZED' : res.status === 403 ? 'DENIED' : res.status === 429 ? 'TOOMANYREQUESTS' : undefined;
    const c = code ?? fallback;
    const summary = `${res.status}${c ? ` ${c}` : ''}${message ? `: ${message}` : text && !code ? `: ${text.trim().slice(0, 200)}` : ''}${detail ? ` (${detail})` : ''}`;
    return { summary: this.scrub(summary), code: c };
  }

  /** Throws a RegistryError naming the registry's error code. */
  private async raise(res: Response, what: string): Promise<never> {
    const e = await this.errorOf(res);
    this.fail(`${what}: ${e.summary}`, res.status, e.code);
  }

  /** GET /v2/ (checks the API and primes auth). */
  async ping(registry: string): Promise<void> {
    const res = await this.request(registry, 'GET', '/v2/', { scopes: [] });
    if (res.status === 200) {
      await res.body?.cancel();
      return;
    }
    await this.raise(res, `GET ${registry}/v2/`);
  }

  /** Checks credentials the way `docker login` does: /v2/ must answer 200 after auth. */
  async login(registry: string): Promise<void> {
    const a = this.hostAuth(registry);
    const res = await this.request(registry, 'GET', '/v2/', { scopes: [] });
    if (res.status === 200) {
      await res.body?.cancel();
      if (a.scheme === undefined && !this.credential(registry)) return;
      return;
    }
    await this.raise(res, `login to ${registry}`);
  }

  private path(repo: Repo, kind: 'blobs' | 'manifests', ref: string): string {
    return `/v2/${repo.repository}/${kind}/${ref}`;
  }

  async blobExists(repo: Repo, digest: string, push = false): Promise<boolean> {
    assertDigest(digest);
    const res = await this.request(repo.registry, 'HEAD', this.path(repo, 'blobs', digest), {
      scopes: [scopeFor(repo.repository, push ? 'pull,push' : 'pull')],
    });
    await res.body?.cancel();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    return this.raise(res, `HEAD ${repo.registry}/${repo.repository} blob ${digest}`);
  }

  /** Tries a cross-repository mount; returns the upload session URL when it was not mounted. */
  async mountBlob(repo: Repo, digest: string, from: string): Promise<{ mounted: boolean; session?: URL }> {
    const u = new URL(`/v2/${repo.repository}/blobs/uploads/`, this.baseUrl(repo.registry));
    u.searchParams.set('mount', digest);
    u.searchParams.set('from', from);
    const res = await this.request(repo.registry, 'POST', u, {
      scopes: [scopeFor(repo.repository, 'pull,push'), scopeFor(from, 'pull')],
      idempotent: false,
    });
    await res.body?.cancel();
    if (res.status === 201) return { mounted: true };
    if (res.status === 202 && res.headers.get('location')) {
      return { mounted: false, session: new URL(res.headers.get('location')!, u) };
    }
    return this.raise(res, `mount ${digest} from ${from} into ${repo.repository}`);
  }

  private async startUpload(repo: Repo): Promise<URL> {
    const u = new URL(`/v2/${repo.repository}/blobs/uploads/`, this.baseUrl(repo.registry));
    const res = await this.request(repo.registry, 'POST', u, {
      scopes: [scopeFor(repo.repository, 'pull,push')],
    });
    await res.body?.cancel();
    if (res.status !== 202 || !res.headers.get('location')) {
      return this.raise(res, `start upload to ${repo.registry}/${repo.repository}`);
    }
    return new URL(res.headers.get('location')!, u);
  }

  private async cancelUpload(repo: Repo, session: URL): Promise<void> {
    try {
      const res = await this.request(repo.registry, 'DELETE', session, {
        scopes: [scopeFor(repo.repository, 'pull,push')],
        idempotent: false,
      });
      await res.body?.cancel();
    } catch {
      /* best effort */
    }
  }

  /** Bytes the registry holds for an upload session, or undefined when the session is gone. */
  private async uploadOffset(repo: Repo, session: URL): Promise<{ offset: number; session: URL } | undefined> {
    try {
      const res = await this.request(repo.registry, 'GET', session, { scopes: [scopeFor(repo.repository, 'pull,push')] });
      await res.body?.cancel();
      if (res.status !== 204) return undefined;
      const m = /^(?:bytes=)?0-(\d+)$/.exec(res.headers.get('range') ?? '');
      const loc = res.headers.get('location');
      return { offset: m ? Number(m[1]) + 1 : 0, session: loc ? new URL(loc, session) : session };
    } catch {
      return undefined;
    }
  }

  /**
   * Uploads a blob under `digest` without checking it locally first (the registry verifies it and
   * refuses a wrong digest with DIGEST_INVALID). Chunked when `chunkSize` is given.
   *
   * Faults are bounded: a failed chunk (5xx, reset, timeout) waits a backoff, asks the session for
   * the bytes it holds and resumes there (`uploadResumes` per session); a dead session, a failed
   * final PUT, or a DIGEST_INVALID after a resume (the session's bytes went wrong) cancels the
   * session, checks whether the blob landed anyway, and starts a new one after a backoff
   * (`uploadRestarts`).
   */
  async uploadBlob(repo: Repo, data: Buffer, digest: string, opts: { chunkSize?: number; session?: URL } = {}): Promise<void> {
    assertDigest(digest);
    const chunkSize = opts.chunkSize ?? this.options.chunkSize;
    const chunked = chunkSize !== undefined && chunkSize > 0 && data.length > chunkSize;
    if (!chunked && data.length > DEFAULT_MONOLITHIC_LIMIT && chunkSize === undefined) {
      return this.uploadBlob(repo, data, digest, { ...opts, chunkSize: 16 * 1024 * 1024 });
    }
    const maxRestarts = this.options.uploadRestarts ?? 2;
    const maxResumes = this.options.uploadResumes ?? 3;
    const target = `${repo.registry}/${repo.repository}`;
    const scopes = [scopeFor(repo.repository, 'pull,push')];
    let session = opts.session;
    for (let restart = 0; ; restart++) {
      let resumed = 0;
      try {
        if (!session) session = await this.startUpload(repo);
        let loc: URL = session;
        let offset = 0;
        while (chunked && offset < data.length) {
          const end = Math.min(data.length, offset + chunkSize!);
          let res: Response | undefined;
          let failure: RegistryError | undefined;
          try {
            res = await this.request(repo.registry, 'PATCH', loc, {
              scopes,
              headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${end - 1}` },
              body: Buffer.from(data.subarray(offset, end)),
              idempotent: false,
            });
          } catch (err) {
            if (!(err instanceof RegistryError)) throw err;
            failure = err;
          }
          if (res?.status === 202) {
            await res.body?.cancel();
            const next = res.headers.get('location');
            if (next) loc = new URL(next, loc);
            session = loc;
            offset = end;
            continue;
          }
          if (res && res.status !== 416 && res.status !== 429 && res.status < 500) {
            return await this.raise(res, `upload chunk ${offset}-${end - 1} of ${digest}`);
          }
          const e = res ? await this.errorOf(res) : { summary: failure!.message, code: failure!.code };
          const status = res?.status ?? failure!.status;
          const what = `chunk ${offset}-${end - 1}: ${e.summary}`;
          if (resumed >= maxResumes) throw new RegistryError(this.scrub(`${what} (${resumed} resume(s))`), status, e.code);
          const wait = this.backoff(resumed, res?.headers.get('retry-after'));
          this.log(`upload of ${digest}: ${what}; retrying in ${wait} ms`);
          await sleep(wait);
          // Ask the registry where the session stands and go on from there.
          const st = await this.uploadOffset(repo, loc);
          if (!st || st.offset > end) {
            throw new RegistryError(this.scrub(`${what}; the upload session cannot be resumed`), status, st ? e.code : 'BLOB_UPLOAD_UNKNOWN');
          }
          this.log(`upload of ${digest} interrupted at ${offset}; resuming at ${st.offset}`);
          loc = st.session;
          session = loc;
          offset = st.offset;
          resumed++;
        }
        const put = new URL(loc);
        put.searchParams.set('digest', digest);
        const res = await this.request(repo.registry, 'PUT', put, {
          scopes,
          headers: { 'Content-Type': 'application/octet-stream' },
          body: chunked ? Buffer.alloc(0) : data,
          idempotent: false,
        });
        if (res.status !== 201) {
          if (res.status >= 500 || res.status === 429) {
            const e = await this.errorOf(res);
            throw new RegistryError(`final PUT: ${e.summary}`, res.status, e.code);
          }
          return await this.raise(res, `upload ${digest} to ${target}`);
        }
        await res.body?.cancel();
        const got = res.headers.get('docker-content-digest');
        if (got && got !== digest) this.fail(`registry stored ${digest} as ${got}`, 201, 'DIGEST_INVALID');
        return;
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err;
        const retryable =
          err.status === undefined ||
          err.status >= 500 ||
          err.status === 429 ||
          RETRYABLE_UPLOAD_CODES.has(err.code ?? '') ||
          (err.code === 'DIGEST_INVALID' && resumed > 0);
        if (!retryable || restart >= maxRestarts) {
          if (err.message.includes(digest)) throw err;
          this.fail(`upload of ${digest} to ${target} failed in ${restart + 1} upload session(s): ${err.message}`, err.status, err.code);
        }
        if (session) await this.cancelUpload(repo, session);
        session = undefined;
        if (await this.blobExists(repo, digest, true).catch(() => false)) return;
        const wait = this.backoff(restart);
        this.log(`upload of ${digest} failed (${err.message}); restarting in ${wait} ms`);
        await sleep(wait);
      }
    }
  }

  /** HEAD-first blob push: skip when present, else mount from `mountFrom`, else upload. */
  async pushBlob(
    repo: Repo,
    data: Buffer,
    opts: { digest?: string; mountFrom?: string[]; chunkSize?: number } = {},
  ): Promise<BlobPushResult> {
    const digest = digestOf(data);
    if (opts.digest && opts.digest !== digest) {
      this.fail(`DIGEST_INVALID: refusing to push blob: content hashes to ${digest}, not the declared ${opts.digest}`, undefined, 'DIGEST_INVALID');
    }
    if (await this.blobExists(repo, digest, true)) return 'exists';
    let session: URL | undefined;
    for (const from of opts.mountFrom ?? []) {
      if (from === repo.repository) continue;
      const m = await this.mountBlob(repo, digest, from);
      if (m.mounted) return 'mounted';
      session = m.session;
      break;
    }
    await this.uploadBlob(repo, data, digest, { chunkSize: opts.chunkSize, session });
    return 'uploaded';
  }

  /** GET a blob, verifying size and digest; a reset or stall mid-answer is retried (bounded). */
  async fetchBlob(repo: Repo, desc: Pick<Descriptor, 'digest' | 'size'>): Promise<Buffer> {
    assertDigest(desc.digest);
    const what = `GET ${repo.registry}/${repo.repository} blob ${desc.digest}`;
    const { body: data } = await this.getWhole(repo.registry, this.path(repo, 'blobs', desc.digest), { scopes: [scopeFor(repo.repository, 'pull')] }, what);
    if (desc.size !== undefined && desc.size >= 0 && data.length !== desc.size) {
      this.fail(`blob ${desc.digest}: SIZE_INVALID: got ${data.length} bytes, the descriptor says ${desc.size}; refused`, 200, 'SIZE_INVALID');
    }
    const got = digestOf(data);
    if (got !== desc.digest) this.fail(`blob ${desc.digest}: digest mismatch (DIGEST_INVALID): the content hashes to ${got}; refused`, 200, 'DIGEST_INVALID');
    return data;
  }

  /** PUT a manifest under a tag or digest with Content-Type = its media type; returns the digest. */
  async putManifest(repo: Repo, reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    const digest = digestOf(bytes);
    if (isDigest(reference) && reference !== digest) this.fail(`manifest hashes to ${digest}, not ${reference}`, undefined, 'DIGEST_INVALID');
    const res = await this.request(repo.registry, 'PUT', this.path(repo, 'manifests', reference), {
      scopes: [scopeFor(repo.repository, 'pull,push')],
      headers: { 'Content-Type': mediaType },
      body: bytes,
    });
    if (res.status !== 201 && res.status !== 200) return this.raise(res, `PUT ${repo.registry}/${repo.repository}:${reference} manifest`);
    await res.body?.cancel();
    const got = res.headers.get('docker-content-digest');
    if (got && got !== digest) this.fail(`registry reports manifest digest ${got}, expected ${digest}`, res.status, 'DIGEST_INVALID');
    return digest;
  }

  /** HEAD a manifest; undefined on 404. */
  async headManifest(repo: Repo, reference: string): Promise<Descriptor | undefined> {
    const res = await this.request(repo.registry, 'HEAD', this.path(repo, 'manifests', reference), {
      scopes: [scopeFor(repo.repository, 'pull')],
      headers: { Accept: MANIFEST_ACCEPT },
    });
    await res.body?.cancel();
    if (res.status === 404) return undefined;
    if (res.status !== 200) return this.raise(res, `HEAD ${repo.registry}/${repo.repository}:${reference} manifest`);
    const digest = res.headers.get('docker-content-digest');
    if (!digest) {
      const m = await this.getManifest(repo, reference);
      return m.descriptor;
    }
    if (isDigest(reference) && digest !== reference) this.fail(`registry answered ${digest} for ${reference}`, 200, 'DIGEST_INVALID');
    return {
      mediaType: (res.headers.get('content-type') ?? '').split(';')[0].trim(),
      digest,
      size: Number(res.headers.get('content-length') ?? -1),
    };
  }

  /** GET a manifest with Accept; verifies digest (by-digest refs and Docker-Content-Digest) and media type. */
  async getManifest(repo: Repo, reference: string): Promise<{ bytes: Buffer; descriptor: Descriptor; json: Record<string, unknown> }> {
    const what = `GET ${repo.registry}/${repo.repository}:${reference} manifest`;
    const { res, body: bytes } = await this.getWhole(
      repo.registry,
      this.path(repo, 'manifests', reference),
      { scopes: [scopeFor(repo.repository, 'pull')], headers: { Accept: MANIFEST_ACCEPT } },
      what,
      MAX_MANIFEST_BYTES,
    );
    if (bytes.length > MAX_MANIFEST_BYTES) this.fail(`manifest ${reference} is larger than 4 MiB`, 200, 'MANIFEST_INVALID');
    const digest = digestOf(bytes);
    if (isDigest(reference) && digest !== reference) this.fail(`manifest ${reference}: digest mismatch (DIGEST_INVALID): the content hashes to ${digest}; refused`, 200, 'DIGEST_INVALID');
    const header = res.headers.get('docker-content-digest');
    if (header && header !== digest) this.fail(`manifest ${reference}: digest mismatch (DIGEST_INVALID): the registry says ${header}, the content hashes to ${digest}; refused`, 200, 'DIGEST_INVALID');
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      this.fail(`manifest ${reference} is not valid JSON`, 200, 'MANIFEST_INVALID');
    }
    const ct = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    const mt = typeof json.mediaType === 'string' ? json.mediaType : ct;
    if (typeof json.mediaType === 'string' && ct && MANIFEST_MEDIA_TYPES.includes(ct) && ct !== json.mediaType) {
      this.fail(`manifest ${reference}: Content-Type ${ct} disagrees with mediaType ${json.mediaType}`, 200, 'MANIFEST_INVALID');
    }
    return { bytes, descriptor: { mediaType: mt, digest, size: bytes.length }, json };
  }

  async listTags(repo: Repo): Promise<string[]> {
    const tags: string[] = [];
    let next: URL | undefined = new URL(`/v2/${repo.repository}/tags/list`, this.baseUrl(repo.registry));
    for (let pages = 0; next && pages < 1000; pages++) {
      const what = `list tags of ${repo.registry}/${repo.repository}`;
      const { res, body: bytes } = await this.getWhole(repo.registry, next, { scopes: [scopeFor(repo.repository, 'pull')] }, what);
      let body: { tags?: string[] | null };
      try {
        body = JSON.parse(bytes.toString('utf8'));
      } catch {
        this.fail(`${what}: the answer is not JSON`, 200, 'NAME_INVALID');
      }
      tags.push(...(body.tags ?? []));
      const link = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.get('link') ?? '');
      next = link ? new URL(link[1], next) : undefined;
    }
    return [...new Set(tags)].sort();
  }
}

export function parseErrorBody(text: string): { code?: string; message?: string; detail?: string } {
  try {
    const v = JSON.parse(text) as { errors?: { code?: string; message?: string; detail?: unknown }[] };
    const e = v.errors?.[0];
    if (!e) return {};
    let detail: string | undefined;
    if (e.detail !== undefined && e.detail !== null) {
      detail = typeof e.detail === 'string' ? e.detail : JSON.stringify(e.detail);
      if (detail.length > 200) detail = `${detail.slice(0, 200)}…`;
    }
    return { code: e.code, message: e.message, detail };
  } catch {
    return {};
  }
}
