/**
 * OCI distribution-spec client on Node's fetch: auth challenges (Basic and Bearer token flow),
 * retries with backoff, manual redirects (Authorization never crosses hosts), blob upload
 * (HEAD-skip, cross-repo mount, monolithic and chunked with resume/restart), manifests with exact
 * content types, digest verification on every read.
 */
import { parseWwwAuthenticate, secretsOf, validateRealm, type Credential, type CredentialStore } from './auth';
import { MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPES, assertDigest, digestOf, isDigest, type Descriptor } from './media';
import { apiHost, isLoopbackRegistry } from './reference';

export interface Repo {
  registry: string;
  repository: string;
}

/** An error answered by the registry (or the transport); `code` is the registry's error code. */
export class RegistryError extends Error {
  override name = 'RegistryError';
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface RegistryClientOptions {
  /** Use http:// for every registry (default: only for localhost/127.0.0.1/::1). */
  plainHttp?: boolean;
  credentials?: CredentialStore;
  /** Retries for 429/5xx/connection errors on idempotent requests (default 4). */
  retries?: number;
  /** First backoff delay in ms, doubled each retry (default 250). */
  retryBaseMs?: number;
  /** Upper bound for any single wait, including Retry-After (default 10 s). */
  maxRetryDelayMs?: number;
  /** Blobs larger than this are uploaded in PATCH chunks of this size (default: monolithic up to 64 MiB). */
  chunkSize?: number;
  userAgent?: string;
  /** Receives progress/diagnostic lines (never secrets). */
  log?: (line: string) => void;
  /** Per-request timeout in ms (default 120 s). */
  timeoutMs?: number;
}

export type BlobPushResult = 'exists' | 'mounted' | 'uploaded';

interface RequestOptions {
  headers?: Record<string, string>;
  body?: Buffer;
  /** Auth scopes, e.g. `repository:a/b:pull,push`. */
  scopes?: string[];
  /** Safe to retry on 429/5xx/connection errors. */
  idempotent?: boolean;
}

interface HostAuth {
  scheme?: 'basic' | 'bearer';
  realm?: URL;
  service?: string;
  tokens: Map<string, { token: string; expires: number }>;
}

const DEFAULT_MONOLITHIC_LIMIT = 64 * 1024 * 1024;

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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errCode(err: unknown): string {
  const e = err as { cause?: { code?: string; message?: string }; code?: string; message?: string; name?: string };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timeout';
  return e?.cause?.code ?? e?.code ?? e?.cause?.message ?? e?.message ?? 'connection error';
}

export class RegistryClient {
  private readonly auth = new Map<string, HostAuth>();
  private readonly secrets = new Set<string>();
  private readonly credCache = new Map<string, Credential | undefined>();
  readonly options: RegistryClientOptions;

  constructor(options: RegistryClientOptions = {}) {
    this.options = options;
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

  private async authorization(registry: string, scopes: string[]): Promise<string | undefined> {
    const a = this.hostAuth(registry);
    const cred = this.credential(registry);
    if (a.scheme === 'basic') {
      if (cred?.username !== undefined && cred.password !== undefined) {
        return `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
      }
      return undefined;
    }
    if (a.scheme === 'bearer') {
      if (cred?.registryToken) return `Bearer ${cred.registryToken}`;
      const merged = mergeScopes(scopes);
      const key = merged.join(' ');
      const cached = a.tokens.get(key);
      if (cached && cached.expires > Date.now()) return `Bearer ${cached.token}`;
      const token = await this.fetchToken(registry, a, merged);
      return `Bearer ${token}`;
    }
    return undefined;
  }

  private async fetchToken(registry: string, a: HostAuth, scopes: string[]): Promise<string> {
    const realm = a.realm!;
    const cred = this.credential(registry);
    let res: Response;
    const headers: Record<string, string> = { 'User-Agent': this.options.userAgent ?? 'meshwasm-oras' };
    try {
      if (cred?.identityToken) {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: cred.identityToken, client_id: 'meshwasm-oras' });
        if (a.service) form.set('service', a.service);
        if (scopes.length) form.set('scope', scopes.join(' '));
        headers['Content-Type'] = 'application/x-www-form-urlencoded';
        res = await fetch(realm, { method: 'POST', headers, body: form.toString(), redirect: 'error', signal: AbortSignal.timeout(this.options.timeoutMs ?? 120_000) });
      } else {
        const u = new URL(realm);
        if (a.service) u.searchParams.set('service', a.service);
        for (const s of scopes) u.searchParams.append('scope', s);
        if (cred?.username && cred.password !== undefined) {
          u.searchParams.set('account', cred.username);
          headers.Authorization = `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
        }
        res = await fetch(u, { headers, redirect: 'error', signal: AbortSignal.timeout(this.options.timeoutMs ?? 120_000) });
      }
    } catch (err) {
      this.fail(`token request to ${realm.origin}${realm.pathname} failed: ${errCode(err)}`);
    }
    const text = await res.text();
    if (!res.ok) {
      const { code, message } = parseErrorBody(text);
      this.fail(
        `token request to ${realm.origin}${realm.pathname} failed: ${res.status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}${res.status === 401 ? ' (check credentials)' : ''}`,
        res.status,
        code ?? (res.status === 401 ? 'UNAUTHORIZED' : res.status === 403 ? 'DENIED' : undefined),
      );
    }
    let body: { token?: string; access_token?: string; expires_in?: number };
    try {
      body = JSON.parse(text);
    } catch {
      this.fail(`token response from ${realm.origin}${realm.pathname} is not JSON`);
    }
    const token = body.token || body.access_token;
    if (!token) this.fail(`token response from ${realm.origin}${realm.pathname} has no token`);
    this.secrets.add(token);
    const ttl = Math.max(10, Number(body.expires_in) || 60);
    a.tokens.set(scopes.join(' '), { token, expires: Date.now() + (ttl - 5) * 1000 });
    return token;
  }

  /** Records a 401 challenge; returns false if nothing new can be tried. */
  private learnChallenge(registry: string, header: string | null, scopes: string[]): { retry: boolean; scopes: string[] } {
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
      return { retry: firstTime || !had || merged.length > mergeScopes(scopes).length, scopes: merged };
    }
    if (basic) {
      const first = a.scheme !== 'basic';
      a.scheme = 'basic';
      return { retry: first && !!cred?.username, scopes };
    }
    return { retry: false, scopes };
  }

  /** One request with auth, redirects and retries. The caller consumes the body. */
  async request(registry: string, method: string, pathOrUrl: string | URL, opts: RequestOptions = {}): Promise<Response> {
    const retries = opts.idempotent === false ? 0 : this.options.retries ?? 4;
    const base = this.options.retryBaseMs ?? 250;
    const maxDelay = this.options.maxRetryDelayMs ?? 10_000;
    let scopes = opts.scopes ?? [];
    let authRetries = 0;
    let attempt = 0;
    const url0 = pathOrUrl instanceof URL ? pathOrUrl : new URL(pathOrUrl, this.baseUrl(registry));
    for (;;) {
      let url = url0;
      const headers: Record<string, string> = { 'User-Agent': this.options.userAgent ?? 'meshwasm-oras', ...(opts.headers ?? {}) };
      const authz = await this.authorization(registry, scopes);
      if (authz) headers.Authorization = authz;
      let res: Response;
      try {
        let hops = 0;
        const registryOrigin = url0.origin;
        for (;;) {
          const h = { ...headers };
          if (url.origin !== registryOrigin) delete h.Authorization;
          res = await fetch(url, {
            method,
            headers: h,
            body: opts.body as BodyInit | undefined,
            redirect: 'manual',
            signal: AbortSignal.timeout(this.options.timeoutMs ?? 120_000),
          });
          if ([301, 302, 303, 307, 308].includes(res.status) && res.headers.get('location') && hops < 5) {
            await res.body?.cancel();
            url = new URL(res.headers.get('location')!, url);
            hops++;
            if (method !== 'GET' && method !== 'HEAD') break; // only reads follow redirects
            continue;
          }
          break;
        }
      } catch (err) {
        if (err instanceof RegistryError) throw err;
        if (attempt < retries) {
          const wait = Math.min(maxDelay, base * 2 ** attempt);
          this.log(`${method} ${url.host}${url.pathname}: ${errCode(err)}; retrying in ${wait} ms`);
          attempt++;
          await sleep(wait);
          continue;
        }
        this.fail(`${method} ${url.host}${url.pathname}: connection failed: ${errCode(err)}`, undefined, 'CONNECTION');
      }
      for (const w of res.headers.get('warning')?.split(/,(?=\s*\d{3}\s)/) ?? []) this.log(`registry warning: ${w.trim()}`);
      if (res.status === 401 && authRetries < 2) {
        const learned = this.learnChallenge(registry, res.headers.get('www-authenticate'), scopes);
        if (learned.retry) {
          await res.body?.cancel();
          authRetries++;
          scopes = learned.scopes;
          continue;
        }
      }
      if ((res.status === 429 || res.status >= 500) && attempt < retries) {
        const ra = res.headers.get('retry-after');
        let wait = base * 2 ** attempt;
        if (ra) {
          const secs = Number(ra);
          wait = Number.isFinite(secs) ? secs * 1000 : Math.max(0, Date.parse(ra) - Date.now());
        }
        wait = Math.min(maxDelay, Math.max(0, wait));
        this.log(`${method} ${url.host}${url.pathname}: ${res.status}; retrying in ${wait} ms`);
        await res.body?.cancel();
        attempt++;
        await sleep(wait);
        continue;
      }
      return res;
    }
  }

  /** Throws a RegistryError naming the registry's error code. */
  private async raise(res: Response, what: string): Promise<never> {
    let text = '';
    try {
      text = await res.text();
    } catch {
      /* ignore */
    }
    const { code, message, detail } = parseErrorBody(text);
    const fallback =
      res.status === 401 ? 'UNAUTHORIZED' : res.status === 403 ? 'DENIED' : res.status === 429 ? 'TOOMANYREQUESTS' : undefined;
    const c = code ?? fallback;
    const msg = `${what}: ${res.status}${c ? ` ${c}` : ''}${message ? `: ${message}` : text && !code ? `: ${text.trim().slice(0, 200)}` : ''}${detail ? ` (${detail})` : ''}`;
    this.fail(msg, res.status, c);
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
   */
  async uploadBlob(repo: Repo, data: Buffer, digest: string, opts: { chunkSize?: number; session?: URL } = {}): Promise<void> {
    assertDigest(digest);
    const chunkSize = opts.chunkSize ?? this.options.chunkSize;
    const chunked = chunkSize !== undefined && chunkSize > 0 && data.length > chunkSize;
    if (!chunked && data.length > DEFAULT_MONOLITHIC_LIMIT && chunkSize === undefined) {
      return this.uploadBlob(repo, data, digest, { ...opts, chunkSize: 16 * 1024 * 1024 });
    }
    const maxRestarts = 2;
    let session = opts.session;
    for (let restart = 0; ; restart++) {
      try {
        if (!session) session = await this.startUpload(repo);
        let loc: URL = session;
        let offset = 0;
        if (chunked) {
          let resumes = 0;
          while (offset < data.length) {
            const end = Math.min(data.length, offset + chunkSize!);
            const chunk = data.subarray(offset, end);
            let res: Response | undefined;
            let failure: unknown;
            try {
              res = await this.request(repo.registry, 'PATCH', loc, {
                scopes: [scopeFor(repo.repository, 'pull,push')],
                headers: {
                  'Content-Type': 'application/octet-stream',
                  'Content-Range': `${offset}-${end - 1}`
                },
                body: Buffer.from(chunk),
                idempotent: false,
              });
            } catch (err) {
              failure = err;
            }
            if (res && res.status === 202) {
              await res.body?.cancel();
              const next = res.headers.get('location');
              if (next) loc = new URL(next, loc);
              session = loc;
              offset = end;
              continue;
            }
            if (res && res.status !== 416 && res.status < 500) return await this.raise(res, `upload chunk ${offset}-${end - 1} of ${digest}`);
            await res?.body?.cancel();
            // Interrupted or refused chunk: ask the registry where the session stands and resume.
            const st = resumes < 3 ? await this.uploadOffset(repo, loc) : undefined;
            if (!st || st.offset < 0 || st.offset > end) throw failure ?? new RegistryError(`upload of ${digest} interrupted`, res?.status);
            this.log(`upload of ${digest} interrupted at ${offset}; resuming at ${st.offset}`);
            loc = st.session;
            session = loc;
            offset = st.offset;
            resumes++;
          }
        }
        const put = new URL(loc);
        put.searchParams.set('digest', digest);
        const body = chunked ? Buffer.alloc(0) : data;
        const res = await this.request(repo.registry, 'PUT', put, {
          scopes: [scopeFor(repo.repository, 'pull,push')],
          headers: { 'Content-Type': 'application/octet-stream' },
          body,
          idempotent: false,
        });
        if (res.status !== 201) {
          if (res.status >= 500) {
            await res.body?.cancel();
            throw new RegistryError(`PUT upload of ${digest}: ${res.status}`, res.status);
          }
          return await this.raise(res, `upload ${digest} to ${repo.registry}/${repo.repository}`);
        }
        await res.body?.cancel();
        const got = res.headers.get('docker-content-digest');
        if (got && got !== digest) this.fail(`registry stored ${digest} as ${got}`, 201, 'DIGEST_INVALID');
        return;
      } catch (err) {
        const re = err as RegistryError;
        const retryable = !(err instanceof RegistryError) || re.status === undefined || re.status >= 500 || re.code === 'CONNECTION' || re.code === 'BLOB_UPLOAD_UNKNOWN' || re.code === 'BLOB_UPLOAD_INVALID';
        if (!retryable || restart >= maxRestarts) throw err;
        if (session) await this.cancelUpload(repo, session);
        session = undefined;
        if (await this.blobExists(repo, digest, true).catch(() => false)) return;
        this.log(`upload of ${digest} failed (${this.scrub((err as Error).message)}); restarting`);
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

  /** GET a blob, verifying size and digest. */
  async fetchBlob(repo: Repo, desc: Pick<Descriptor, 'digest' | 'size'>): Promise<Buffer> {
    assertDigest(desc.digest);
    const res = await this.request(repo.registry, 'GET', this.path(repo, 'blobs', desc.digest), {
      scopes: [scopeFor(repo.repository, 'pull')],
    });
    if (res.status !== 200) return this.raise(res, `GET ${repo.registry}/${repo.repository} blob ${desc.digest}`);
    const data = Buffer.from(await res.arrayBuffer());
    if (desc.size !== undefined && desc.size >= 0 && data.length !== desc.size) {
      this.fail(`blob ${desc.digest}: got ${data.length} bytes, descriptor says ${desc.size}`, 200, 'SIZE_INVALID');
    }
    const got = digestOf(data);
    if (got !== desc.digest) this.fail(`blob digest mismatch: ${desc.digest} hashes to ${got}`, 200, 'DIGEST_INVALID');
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
    const res = await this.request(repo.registry, 'GET', this.path(repo, 'manifests', reference), {
      scopes: [scopeFor(repo.repository, 'pull')],
      headers: { Accept: MANIFEST_ACCEPT },
    });
    if (res.status !== 200) return this.raise(res, `GET ${repo.registry}/${repo.repository}:${reference} manifest`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > 4 * 1024 * 1024) this.fail(`manifest ${reference} is larger than 4 MiB`, 200, 'MANIFEST_INVALID');
    const digest = digestOf(bytes);
    if (isDigest(reference) && digest !== reference) this.fail(`manifest digest mismatch: ${reference} hashes to ${digest}`, 200, 'DIGEST_INVALID');
    const header = res.headers.get('docker-content-digest');
    if (header && header !== digest) this.fail(`manifest digest mismatch: registry says ${header}, content hashes to ${digest}`, 200, 'DIGEST_INVALID');
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
      const res = await this.request(repo.registry, 'GET', next, { scopes: [scopeFor(repo.repository, 'pull')] });
      if (res.status !== 200) return this.raise(res, `list tags of ${repo.registry}/${repo.repository}`);
      const body = (await res.json()) as { tags?: string[] | null };
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
