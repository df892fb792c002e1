/**
 * Real components for integration tests, on 127.0.0.1 only: Debian's docker-registry (anonymous,
 * htpasswd, or token auth with a JWT token endpoint written here), a fault-injecting HTTP proxy,
 * and skopeo.
 */
import { describe, expect, test } from '@jest/globals';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { X509Certificate, createPrivateKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bcrypt } from './bcrypt';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
export const SKOPEO_BIN = '/usr/bin/skopeo';

/** Which real components are missing (empty when all are installed). */
export function missingComponents(): string[] {
  const missing: string[] = [];
  if (!existsSync(REGISTRY_BIN)) missing.push(`docker-registry (${REGISTRY_BIN}, Debian package docker-registry)`);
  if (!existsSync(SKOPEO_BIN)) missing.push(`skopeo (${SKOPEO_BIN}, Debian package skopeo)`);
  if (!existsSync('/usr/bin/openssl')) missing.push('openssl (/usr/bin/openssl)');
  return missing;
}

/**
 * The suite that stands in for integration tests whose components are absent: it says so loudly
 * on a developer laptop, and fails under CI=true (CI must install them).
 */
export function describeMissingComponents(suite: string, missing: string[]): void {
  describe(suite, () => {
    test('needs docker-registry, skopeo and openssl', () => {
      const msg = `MISSING COMPONENTS for ${suite}: ${missing.join('; ')}. Install with: apt-get install docker-registry skopeo openssl`;
      console.warn(msg);
      expect(process.env.CI === 'true' ? msg : 'not in CI').toBe('not in CI');
    });
  });
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

export interface TokenRequestLog {
  service: string | null;
  scopes: string[];
  account: string | null;
  user?: string;
}

export interface RegistryHandle {
  host: string;
  port: number;
  dir: string;
  tokenRequests: TokenRequestLog[];
  /** Every token the token endpoint handed out (to check that none reaches any output). */
  issuedTokens: string[];
  stop(): Promise<void>;
}

export interface RegistryOptions {
  auth?: 'none' | 'htpasswd' | 'token';
  user?: string;
  password?: string;
  /** Token auth: a status for the token endpoint to answer request n (1-based) with instead of a token. */
  tokenFault?: (n: number) => number | undefined;
}

/** Starts docker-registry on a free loopback port with storage in a temp dir. */
export async function startRegistry(opts: RegistryOptions = {}): Promise<RegistryHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'oras-registry-'));
  const port = await freePort();
  const tokenRequests: TokenRequestLog[] = [];
  const issuedTokens: string[] = [];
  let tokenServer: Server | undefined;
  let authYaml = '';
  if (opts.auth === 'htpasswd') {
    writeFileSync(join(dir, 'htpasswd'), `${opts.user}:${bcrypt(opts.password!, 4)}\n`);
    authYaml = `auth:\n  htpasswd:\n    realm: basic-realm\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (opts.auth === 'token') {
    const t = await startTokenServer(dir, opts.user!, opts.password!, tokenRequests, issuedTokens, opts.tokenFault);
    tokenServer = t.server;
    authYaml =
      `auth:\n  token:\n    realm: http://127.0.0.1:${t.port}/token\n    service: meshwasm-test\n` +
      `    issuer: meshwasm-test-issuer\n    rootcertbundle: ${t.certPath}\n`;
  }
  const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:${port}
  secret: meshwasm-test-secret
${authYaml}`;
  writeFileSync(join(dir, 'config.yml'), config);
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${stderr.slice(0, 2000)}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      await res.body?.cancel();
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`docker-registry did not answer on 127.0.0.1:${port}: ${stderr.slice(0, 2000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    host: `127.0.0.1:${port}`,
    port,
    dir,
    tokenRequests,
    issuedTokens,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 3000)))]);
        clearTimeout(timer);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      if (tokenServer) await new Promise((r) => tokenServer!.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/**
 * A distribution token endpoint: checks Basic credentials and issues RS256 JWTs (x5c chain = a
 * self-signed cert generated with openssl) granting the requested actions to the valid user, and
 * nothing to anonymous callers.
 */
async function startTokenServer(
  dir: string,
  user: string,
  password: string,
  log: TokenRequestLog[],
  issued: string[],
  fault?: (n: number) => number | undefined,
) {
  let served = 0;
  const keyPath = join(dir, 'token-key.pem');
  const certPath = join(dir, 'token-cert.pem');
  execFileSync('/usr/bin/openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath,
    '-days', '2', '-subj', '/CN=meshwasm-test-token',
  ], { stdio: 'ignore' });
  const key: KeyObject = createPrivateKey(readFileSync(keyPath));
  const certDer = new X509Certificate(readFileSync(certPath)).raw.toString('base64');
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const injected = fault?.(++served);
    if (injected !== undefined) {
      res.writeHead(injected, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'injected token endpoint fault' }] }));
      return;
    }
    const authz = req.headers.authorization ?? '';
    let who: string | undefined;
    if (authz.startsWith('Basic ')) {
      const [u1, ...p] = Buffer.from(authz.slice(6), 'base64').toString().split(':');
      if (u1 !== user || p.join(':') !== password) {
        res.writeHead(401, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid credentials' }] }));
        return;
      }
      who = u1;
    }
    const scopes = u.searchParams.getAll('scope');
    log.push({ service: u.searchParams.get('service'), scopes, account: u.searchParams.get('account'), user: who });
    const access = who
      ? scopes.flatMap((s) => s.split(' ')).map((s) => {
          const parts = s.split(':');
          return { type: parts[0], name: parts.slice(1, -1).join(':'), actions: parts[parts.length - 1].split(',') };
        })
      : [];
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] };
    const claims = {
      iss: 'meshwasm-test-issuer',
      sub: who ?? '',
      aud: u.searchParams.get('service') ?? '',
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString('hex'),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
    issued.push(token);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  const port = await listen(server);
  return { server, port, certPath };
}

/**
 * What the fault proxy does with one request. Strings are shorthands:
 * - `pass`: forward it to the registry and relay the answer;
 * - `cut`: reset the connection before anything reaches the registry;
 * - `tamper`: forward it, then flip the last byte of the answer's body (a wrong digest);
 * - `hang`: never answer (the connection stays open until the proxy stops).
 */
export type FaultAction = 'pass' | 'cut' | 'tamper' | 'hang' | Fault;

export interface Fault {
  /** Answer this status without forwarding (JSON error body `UNAVAILABLE: injected fault`). */
  status?: number;
  headers?: Record<string, string>;
  /** Forward the request, let the registry act on it, but answer this status instead of its answer. */
  statusAfterForward?: number;
  /** Forward the request headers and only this many body bytes, then reset both connections. */
  cutRequestAfter?: number;
  /** Relay the answer's headers (full Content-Length) and this many body bytes, then reset. */
  cutResponseAfter?: number;
  /** Relay only this many body bytes, with a Content-Length that says so (a lying registry). */
  shortBody?: number;
  /** Relay the headers and this many body bytes, then stall without closing. */
  stallResponseAfter?: number;
  /** Wait this long before forwarding (a slow registry). */
  delayMs?: number;
  /** Forward without the Authorization header (the registry answers 401 with its challenge). */
  stripAuth?: boolean;
  /** Answer this status with an error body that echoes the request's Authorization header. */
  echoAuth?: number;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  accept?: string;
  contentType?: string;
  /** The Authorization scheme the client sent (`Basic`, `Bearer`), never the value. */
  authScheme?: string;
  /** What the proxy did: `pass`, `cut`, `tamper`, `hang` or the Fault's keys. */
  fault: string;
}

export interface ProxyHandle {
  host: string;
  requests: ProxiedRequest[];
  stop(): Promise<void>;
}

function describeFault(a: FaultAction): string {
  return typeof a === 'string' ? a : Object.entries(a).map(([k, v]) => (typeof v === 'object' ? k : `${k}=${v}`)).join(',');
}

/**
 * An HTTP proxy on 127.0.0.1 in front of a registry that injects faults per request: errors,
 * resets before, during or after the body, truncated or altered answers, slow or missing answers,
 * and stripped credentials. `decide` gets the method, the path (with query) and the 1-based number
 * of the request.
 */
export async function startFaultProxy(targetPort: number, decide: (method: string, path: string, n: number) => FaultAction): Promise<ProxyHandle> {
  const requests: ProxiedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const action = decide(req.method!, req.url!, requests.length + 1);
    requests.push({
      method: req.method!,
      path: req.url!,
      accept: req.headers.accept,
      contentType: req.headers['content-type'],
      authScheme: req.headers.authorization?.split(' ')[0],
      fault: describeFault(action),
    });
    if (action === 'cut') {
      req.socket.destroy();
      return;
    }
    if (action === 'hang') {
      req.resume();
      return;
    }
    const f: Fault = action === 'pass' || action === 'tamper' ? {} : action;
    if (f.status !== undefined || f.echoAuth !== undefined) {
      req.resume();
      const message = f.echoAuth !== undefined ? `bad request with authorization ${req.headers.authorization ?? '(none)'}` : 'injected fault';
      res.writeHead(f.status ?? f.echoAuth!, { 'Content-Type': 'application/json', ...(f.headers ?? {}) });
      res.end(JSON.stringify({ errors: [{ code: f.echoAuth !== undefined ? 'DENIED' : 'UNAVAILABLE', message }] }));
      return;
    }
    const headers = { ...req.headers };
    if (f.stripAuth) delete headers.authorization;
    const forward = () => {
      const up = httpRequest({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers }, (ur) => {
        if (f.statusAfterForward !== undefined) {
          ur.resume();
          ur.on('end', () => {
            res.writeHead(f.statusAfterForward!, { 'Content-Type': 'application/json' });
            res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'injected fault after the registry answered' }] }));
          });
          return;
        }
        if (action === 'tamper' || f.shortBody !== undefined || f.cutResponseAfter !== undefined || f.stallResponseAfter !== undefined) {
          const chunks: Buffer[] = [];
          ur.on('data', (c) => chunks.push(c));
          ur.on('end', () => {
            const body = Buffer.concat(chunks);
            if (action === 'tamper') {
              if (body.length > 0) body[body.length - 1] ^= 0xff;
              res.writeHead(ur.statusCode!, ur.headers);
              res.end(body);
            } else if (f.shortBody !== undefined) {
              const part = body.subarray(0, f.shortBody);
              res.writeHead(ur.statusCode!, { ...ur.headers, 'content-length': String(part.length) });
              res.end(part);
            } else {
              const n = f.cutResponseAfter ?? f.stallResponseAfter!;
              res.writeHead(ur.statusCode!, ur.headers);
              res.write(body.subarray(0, n));
              if (f.cutResponseAfter !== undefined) {
                // let the partial body leave before the reset
                const t = setTimeout(() => res.destroy(), 20);
                timers.add(t);
              }
            }
          });
          return;
        }
        res.writeHead(ur.statusCode!, ur.headers);
        ur.pipe(res);
      });
      up.on('error', () => res.destroy());
      if (f.cutRequestAfter !== undefined) {
        let sent = 0;
        req.on('data', (c: Buffer) => {
          if (sent >= f.cutRequestAfter!) return;
          const part = c.subarray(0, f.cutRequestAfter! - sent);
          sent += part.length;
          up.write(part);
          if (sent >= f.cutRequestAfter!) {
            // give the registry the partial body, then reset both sides
            const t = setTimeout(() => {
              up.destroy();
              req.socket.destroy();
            }, 50);
            timers.add(t);
          }
        });
        req.on('end', () => {
          if (sent < f.cutRequestAfter!) up.end();
        });
        return;
      }
      req.pipe(up);
    };
    if (f.delayMs !== undefined) {
      const t = setTimeout(forward, f.delayMs);
      timers.add(t);
    } else forward();
  });
  const port = await listen(server);
  return {
    host: `127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((r) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Runs skopeo asynchronously (the token endpoint lives in this process, so a blocking spawnSync
 * would deadlock it). Every ref used here is on 127.0.0.1 or a local directory.
 */
export function skopeo(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SKOPEO_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
}

export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(d, { recursive: true });
  return d;
}
