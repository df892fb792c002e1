/** Registry credentials: the Credential shape, docker's config.json (auths, credHelpers, credsStore) and fixed -u/-p credentials. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface Credential {
  username?: string;
  password?: string;
  /** OAuth2 refresh token (docker `identitytoken`, helper username `<token>`). */
  identityToken?: string;
  /** Bearer token to send as-is (docker `registrytoken`). */
  registryToken?: string;
}

export function hasSecret(c: Credential | undefined): boolean {
  return !!c && !!(c.password || c.identityToken || c.registryToken);
}

export function secretsOf(c: Credential | undefined): string[] {
  if (!c) return [];
  const out = [c.password, c.identityToken, c.registryToken].filter((x): x is string => !!x && x.length >= 3);
  if (c.username && c.password) out.push(Buffer.from(`${c.username}:${c.password}`).toString('base64'));
  return out;
}

interface DockerAuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

interface DockerConfigFile {
  auths?: Record<string, DockerAuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

/** The key docker uses for a registry in config.json and helpers. */
export function serverAddress(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' || registry === 'registry-1.docker.io' ? DOCKER_HUB_KEY : registry;
}

/** Normalises legacy `https://host/v1/` keys to `host`. */
function normaliseKey(key: string): string {
  if (key === DOCKER_HUB_KEY) return key;
  let k = key.replace(/^https?:\/\//, '');
  const slash = k.indexOf('/');
  if (slash >= 0) k = k.slice(0, slash);
  return k;
}

export interface CredentialStore {
  get(registry: string): Credential | undefined;
}

/** `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`) with credHelpers/credsStore/auths. */
export class DockerConfig implements CredentialStore {
  readonly path: string;
  constructor(dir?: string, private readonly env: NodeJS.ProcessEnv = process.env) {
    const d = dir ?? env.DOCKER_CONFIG ?? join(homedir(), '.docker');
    this.path = join(d, 'config.json');
  }

  read(): DockerConfigFile {
    if (!existsSync(this.path)) return {};
    try {
      const v = JSON.parse(readFileSync(this.path, 'utf8'));
      return v && typeof v === 'object' ? (v as DockerConfigFile) : {};
    } catch (err) {
      throw new Error(`${this.path}: invalid JSON (${(err as Error).message.replace(/"[^"]*"/g, '"…"')})`);
    }
  }

  private write(cfg: DockerConfigFile): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(cfg, null, '\t') + '\n', { mode: 0o600 });
    renameSync(tmp, this.path);
  }

  /** The helper responsible for a registry, if any. */
  helperFor(registry: string, cfg = this.read()): string | undefined {
    const key = serverAddress(registry);
    return cfg.credHelpers?.[key] ?? cfg.credHelpers?.[registry] ?? cfg.credsStore;
  }

  get(registry: string): Credential | undefined {
    const cfg = this.read();
    const key = serverAddress(registry);
    const helper = this.helperFor(registry, cfg);
    if (helper) {
      const c = runHelperGet(helper, key, this.env);
      if (c) return c;
      if (cfg.credHelpers?.[key] || cfg.credHelpers?.[registry]) return undefined;
    }
    const auths = cfg.auths ?? {};
    let entry: DockerAuthEntry | undefined = auths[key];
    if (!entry) {
      for (const [k, v] of Object.entries(auths)) {
        if (normaliseKey(k) === normaliseKey(key)) {
          entry = v;
          break;
        }
      }
    }
    if (!entry) return undefined;
    const c: Credential = {};
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new Error(`${this.path}: auths entry for ${registry} has an invalid "auth" value`);
      c.username = decoded.slice(0, colon);
      c.password = decoded.slice(colon + 1);
    }
    if (entry.username) c.username = entry.username;
    if (entry.password) c.password = entry.password;
    if (entry.identitytoken) c.identityToken = entry.identitytoken;
    if (entry.registrytoken) c.registryToken = entry.registrytoken;
    return c.username || c.identityToken || c.registryToken ? c : undefined;
  }

  /** Stores credentials like `docker login`: in the helper if configured, else base64 in auths. */
  store(registry: string, cred: Credential): { where: string } {
    const cfg = this.read();
    const key = serverAddress(registry);
    const helper = this.helperFor(registry, cfg);
    if (helper) {
      const secret = cred.identityToken ?? cred.password ?? '';
      const username = cred.identityToken ? '<token>' : cred.username ?? '';
      runHelper(helper, 'store', JSON.stringify({ ServerURL: key, Username: username, Secret: secret }), this.env);
      return { where: `docker-credential-${helper}` };
    }
    cfg.auths = cfg.auths ?? {};
    const entry: DockerAuthEntry = {};
    if (cred.username && cred.password) entry.auth = Buffer.from(`${cred.username}:${cred.password}`).toString('base64');
    if (cred.identityToken) entry.identitytoken = cred.identityToken;
    cfg.auths[key] = entry;
    this.write(cfg);
    return { where: this.path };
  }

  /** Removes credentials like `docker logout`. Returns false when there were none. */
  erase(registry: string): boolean {
    const cfg = this.read();
    const key = serverAddress(registry);
    const helper = this.helperFor(registry, cfg);
    let removed = false;
    if (helper) {
      try {
        runHelper(helper, 'erase', key, this.env);
        removed = true;
      } catch {
        /* not stored there */
      }
    }
    for (const k of Object.keys(cfg.auths ?? {})) {
      if (normaliseKey(k) === normaliseKey(key)) {
        delete cfg.auths![k];
        removed = true;
      }
    }
    if (removed) this.write(cfg);
    return removed;
  }
}

function runHelper(helper: string, verb: string, input: string, env: NodeJS.ProcessEnv): string {
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) throw new Error(`invalid credential helper name ${JSON.stringify(helper)}`);
  const bin = `docker-credential-${helper}`;
  const r = spawnSync(bin, [verb], { input, env, encoding: 'utf8', timeout: 30_000 });
  // EPIPE only means the helper exited before reading its input: its exit status is the real answer.
  if (r.error && !((r.error as NodeJS.ErrnoException).code === 'EPIPE' && r.status !== null)) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new Error(`credential helper ${bin} ${verb} failed: ${code === 'ENOENT' ? 'not found in PATH' : code ?? 'error'}`);
  }
  if (r.status !== 0) {
    const msg = (r.stdout || r.stderr || '').trim();
    // Helper messages are short status texts; never echo anything that could be a secret.
    const safe = /credentials not found/i.test(msg) ? 'credentials not found in native keychain' : `exit status ${r.status}`;
    const e = new Error(`credential helper ${bin} ${verb}: ${safe}`);
    (e as Error & { notFound?: boolean }).notFound = safe.startsWith('credentials not found');
    throw e;
  }
  return r.stdout;
}

function runHelperGet(helper: string, serverUrl: string, env: NodeJS.ProcessEnv): Credential | undefined {
  let out: string;
  try {
    out = runHelper(helper, 'get', serverUrl, env);
  } catch (err) {
    if ((err as Error & { notFound?: boolean }).notFound) return undefined;
    throw err;
  }
  let v: { Username?: string; Secret?: string };
  try {
    v = JSON.parse(out);
  } catch {
    throw new Error(`credential helper docker-credential-${helper} get: output is not JSON`);
  }
  if (!v.Secret) return undefined;
  if (v.Username === '<token>') return { identityToken: v.Secret };
  return { username: v.Username ?? '', password: v.Secret };
}

/** A fixed credential (CLI -u/-p) taking precedence over another store. */
export class StaticCredentials implements CredentialStore {
  constructor(private readonly cred: Credential | undefined, private readonly fallback?: CredentialStore) {}
  get(registry: string): Credential | undefined {
    return this.cred ?? this.fallback?.get(registry);
  }
}
