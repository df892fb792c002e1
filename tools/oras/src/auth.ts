/**
 * The auth layer of the registry client, as a wrapper around the transport: it parses
 * WWW-Authenticate challenges, checks bearer realms, keeps one token cache per registry, and sends
 * every request through the 401 → challenge → token → again flow (Basic or Bearer, with
 * password, refresh-token or registry-token credentials). Credential stores live in
 * src/credentials.ts; secrets seen here are scrubbed from every message.
 */
import { isIP } from 'node:net';
import { type Credential, type CredentialStore } from './credentials';
import { parseErrorBody, describeError } from './errors';
import { apiHost, hostnameOf, isLoopbackRegistry } from './reference';
import { Secrets } from './secrets';
import { RegistryError, sleep, type RetryBudget, type Transport } from './transport';

export * from './credentials';
export { hostnameOf };

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses one or more challenges (`Basic realm="x"`, `Bearer realm="…",service="…",scope="a b"`). */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const s = header;
  const skipWs = () => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  while (i < s.length) {
    skipWs();
    while (s[i] === ',') {
      i++;
      skipWs();
    }
    const m = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/.exec(s.slice(i));
    if (!m) break;
    const scheme = m[0];
    i += scheme.length;
    const ch: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(ch);
    for (;;) {
      skipWs();
      const save = i;
      const km = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*/.exec(s.slice(i));
      if (!km) break;
      i += km[0].length;
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i++];
        }
        i++; // closing quote
      } else {
        const vm = /^[^,\s]*/.exec(s.slice(i));
        value = vm ? vm[0] : '';
        i += value.length;
      }
      // a token followed by '=' that is really the next scheme's token68 is not handled (unused by registries)
      ch.params[km[1].toLowerCase()] = value;
      skipWs();
      if (s[i] === ',') {
        i++;
        // lookahead: next item is a new scheme if it is "token SP token="
        const look = /^\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+\s+[A-Za-z0-9!#$%&'*+.^_`|~-]+\s*=/.exec(s.slice(i));
        if (look) break;
        continue;
      }
      if (i === save) break;
      break;
    }
  }
  return out;
}

function isPrivateOrLoopbackIp(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  const v = isIP(h);
  if (v === 4) {
    const [a, b] = h.split('.').map(Number);
    return a === 127 || a === 10 || a === 0 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  }
  if (v === 6) return h === '::1' || h === '::' || h.startsWith('fe80:') || h.startsWith('fc') || h.startsWith('fd');
  return h === 'localhost' || h.endsWith('.localhost');
}

/**
 * Bearer realm hardening (as oras-go): http/https only, no https→http downgrade, and no
 * loopback/private/link-local realm unless it is on the registry's own host.
 */
export function validateRealm(realm: string, registryUrl: URL): URL {
  let u: URL;
  try {
    u = new URL(realm);
  } catch {
    throw new Error(`rejected unsafe bearer realm ${JSON.stringify(realm)}: not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`rejected unsafe bearer realm ${JSON.stringify(realm)}: scheme must be http or https`);
  if (!u.hostname) throw new Error(`rejected unsafe bearer realm ${JSON.stringify(realm)}: no host`);
  if (registryUrl.protocol === 'https:' && u.protocol === 'http:') {
    throw new Error(`rejected unsafe bearer realm ${JSON.stringify(realm)}: https registry must not downgrade to http`);
  }
  if (isPrivateOrLoopbackIp(u.hostname) && u.hostname !== registryUrl.hostname) {
    throw new Error(`rejected unsafe bearer realm ${JSON.stringify(realm)}: private or loopback address differs from the registry host`);
  }
  return u;
}
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

/** Bearer tokens of one registry, by merged scope set, until a little before they expire. */
export class TokenCache {
  private readonly tokens = new Map<string, { token: string; expires: number }>();

  private key(scopes: string[]): string {
    return mergeScopes(scopes).join(' ');
  }

  get(scopes: string[]): string | undefined {
    const t = this.tokens.get(this.key(scopes));
    return t && t.expires > Date.now() ? t.token : undefined;
  }

  has(scopes: string[]): boolean {
    return this.tokens.has(this.key(scopes));
  }

  /** Keeps a token for its lifetime (at least 10 s) minus 5 s. */
  set(scopes: string[], token: string, expiresInSeconds: number): void {
    const ttl = Math.max(10, expiresInSeconds || 60);
    this.tokens.set(this.key(scopes), { token, expires: Date.now() + (ttl - 5) * 1000 });
  }

  delete(scopes: string[]): void {
    this.tokens.delete(this.key(scopes));
  }
}

/** What one registry asked for: its scheme, and for Bearer the checked realm, service and tokens. */
interface HostAuth {
  scheme?: 'basic' | 'bearer';
  realm?: URL;
  service?: string;
  tokens: TokenCache;
}

export interface AuthRequest {
  headers?: Record<string, string>;
  body?: Buffer;
  /** Auth scopes, e.g. `repository:a/b:pull,push`. */
  scopes?: string[];
  /** Safe to retry on 429/5xx/connection errors (default true). */
  idempotent?: boolean;
  /** Retries already spent on this operation (shared with a caller that retries too, e.g. body reads). */
  budget?: RetryBudget;
}

export interface AuthClientOptions {
  credentials?: CredentialStore;
  /** Use http:// for every registry (default: only for loopback registries). */
  plainHttp?: boolean;
  /** Receives diagnostic lines, already scrubbed. */
  log?: (line: string) => void;
}

function basic(cred: Credential): string {
  return `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
}

/**
 * An HTTP client for registries: the transport below it (timeouts, redirects, retries), the auth
 * flow in it, and the secrets it has seen kept out of every log line and error.
 */
export class AuthClient {
  private readonly hosts = new Map<string, HostAuth>();
  private readonly credCache = new Map<string, Credential | undefined>();
  readonly secrets: Secrets;

  constructor(
    readonly transport: Transport,
    private readonly options: AuthClientOptions,
    secrets = new Secrets(),
  ) {
    this.secrets = secrets;
  }

  /** Base URL of a registry: http only for loopback hosts or when plainHttp is set. */
  baseUrl(registry: string): URL {
    const scheme = this.options.plainHttp || isLoopbackRegistry(registry) ? 'http' : 'https';
    return new URL(`${scheme}://${apiHost(registry)}`);
  }

  /** The registry's credential, read once; its secrets join the scrub list. */
  credential(registry: string): Credential | undefined {
    if (!this.credCache.has(registry)) {
      const c = this.options.credentials?.get(registry);
      this.secrets.addCredential(c);
      this.credCache.set(registry, c);
    }
    return this.credCache.get(registry);
  }

  scrub(text: string): string {
    return this.secrets.scrub(text);
  }

  log(line: string): void {
    this.options.log?.(this.scrub(line));
  }

  fail(message: string, status?: number, code?: string): never {
    throw new RegistryError(this.scrub(message), status, code);
  }

  /** Reads an error answer: `503 UNAVAILABLE: message (detail)` and the registry's code, scrubbed. */
  async errorOf(res: Response): Promise<{ summary: string; code?: string }> {
    const e = await describeError(res);
    return { summary: this.scrub(e.summary), code: e.code };
  }

  /** Throws a RegistryError naming the registry's error code. */
  async raise(res: Response, what: string): Promise<never> {
    const e = await this.errorOf(res);
    return this.fail(`${what}: ${e.summary}`, res.status, e.code);
  }

  private host(registry: string): HostAuth {
    let a = this.hosts.get(registry);
    if (!a) {
      a = { tokens: new TokenCache() };
      this.hosts.set(registry, a);
    }
    return a;
  }

  /**
   * One request through the auth layer: the transport sends it (timeouts, redirects, bounded
   * retries); a 401 teaches the challenge and the request goes again with new credentials (twice
   * at most). The caller consumes the body.
   */
  async send(registry: string, method: string, pathOrUrl: string | URL, opts: AuthRequest = {}): Promise<Response> {
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

  /**
   * A GET whose body is read inside the retry budget: a reset or stall in the middle of the answer
   * is retried like one before it. Non-200 answers raise.
   */
  async getWhole(registry: string, pathOrUrl: string | URL, opts: AuthRequest, what: string, limit?: number): Promise<{ res: Response; body: Buffer }> {
    const budget: RetryBudget = { retried: 0 };
    for (;;) {
      const res = await this.send(registry, 'GET', pathOrUrl, { ...opts, budget });
      if (res.status !== 200) return this.raise(res, what);
      try {
        return { res, body: await this.transport.readBody(res, what, limit) };
      } catch (err) {
        if (!(err instanceof RegistryError) || budget.retried >= this.transport.retries) {
          if (err instanceof RegistryError && budget.retried > 0) this.fail(`${err.message} (${budget.retried + 1} tries)`, err.status, err.code);
          throw err;
        }
        const wait = this.transport.backoff(budget.retried);
        this.log(`${err.message}; retrying in ${wait} ms`);
        budget.retried++;
        await sleep(wait);
      }
    }
  }

  /** The Authorization header for a request, and whether it is a token cached from an earlier request. */
  private async authorization(registry: string, scopes: string[]): Promise<{ header: string; cached: boolean } | undefined> {
    const a = this.host(registry);
    const cred = this.credential(registry);
    if (a.scheme === 'basic') {
      if (cred?.username !== undefined && cred.password !== undefined) return { header: basic(cred), cached: false };
      return undefined;
    }
    if (a.scheme === 'bearer') {
      if (cred?.registryToken) return { header: `Bearer ${cred.registryToken}`, cached: false };
      const cached = a.tokens.get(scopes);
      if (cached) return { header: `Bearer ${cached}`, cached: true };
      const token = await this.fetchToken(registry, a, mergeScopes(scopes));
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
        headers.Authorization = basic(cred);
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
      text = (await this.transport.readBody(res, `token request to ${endpoint}`)).toString('utf8');
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
    a.tokens.set(scopes, token, Number(body.expires_in));
    return token;
  }

  /**
   * Records a 401 challenge; says whether trying again can help: a first challenge, a new scope,
   * or a cached token the registry no longer takes (expired or revoked: fetch a new one, once).
   */
  private learnChallenge(registry: string, header: string | null, scopes: string[], sentCachedToken: boolean): { retry: boolean; scopes: string[] } {
    const a = this.host(registry);
    const challenges = parseWwwAuthenticate(header ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basicChallenge = challenges.find((c) => c.scheme === 'basic');
    if (bearer) {
      if (!bearer.params.realm) this.fail(`registry ${registry} sent a Bearer challenge without realm`);
      const realm = validateRealm(bearer.params.realm, this.baseUrl(registry));
      const merged = mergeScopes([...scopes, ...(bearer.params.scope ? [bearer.params.scope] : [])]);
      const firstTime = a.scheme !== 'bearer';
      const had = a.tokens.has(merged);
      a.scheme = 'bearer';
      a.realm = realm;
      a.service = bearer.params.service;
      a.tokens.delete(merged);
      if (sentCachedToken) a.tokens.delete(scopes);
      return { retry: firstTime || !had || sentCachedToken || merged.length > mergeScopes(scopes).length, scopes: merged };
    }
    if (basicChallenge) {
      const first = a.scheme !== 'basic';
      a.scheme = 'basic';
      return { retry: first && !!this.credential(registry)?.username, scopes };
    }
    return { retry: false, scopes };
  }
}
