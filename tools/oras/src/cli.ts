/**
 * meshwasm-oras: an ORAS-like CLI for Istio-ready proxy-wasm artifacts.
 * Run `meshwasm-oras help` for usage. Exit codes: 0 ok, 1 error, 2 usage error.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { parseArgs } from 'node:util';
import {
  fetchManifest,
  istioCheckLayout,
  istioCheckRemote,
  makeClient,
  pull,
  pullToLayout,
  pushLayout,
  resolveDigest,
  tagRemote,
  type ConnectOptions,
} from './api';
import { DockerConfig, type Credential } from './auth';
import { OPTIONS, UsageError, defaultIO, need, outputJson, type CliIO, type Print, type Values } from './cli-args';
import { cmdPush, cmdPushWasm } from './cli-push';

export type { CliIO };
import { parseLayoutTarget, readBlob, resolveInLayout, tagInLayout } from './layout';
import { Annotation, type Descriptor } from './media';
import { parseReference } from './reference';

const USAGE = `meshwasm-oras — OCI artifacts for proxy-wasm filters (ORAS-like)

Usage:
  meshwasm-oras push-wasm FILE.wasm REF [--format oci|compat] [--name N] [--version V]
                [--created RFC3339|EPOCH] [--root-id ID]... [--abi-version V] [--source URL]
                [--revision SHA] [-a KEY=VAL]... [--oci-layout] [--chunk-size BYTES]
  meshwasm-oras push REF FILE[:MEDIATYPE]... [--config FILE[:MEDIATYPE]] [--artifact-type T]
                [-a KEY=VAL]... [--created T] [--oci-layout] [--export-manifest PATH]
  meshwasm-oras pull REF [-o DIR] [--oci-layout]
  meshwasm-oras cp SRC DST [--from-oci-layout] [--to-oci-layout]
  meshwasm-oras manifest fetch REF [--descriptor] [--pretty] [-o FILE] [--oci-layout]
  meshwasm-oras resolve REF [--oci-layout]
  meshwasm-oras tag REF TAG... [--oci-layout]
  meshwasm-oras repo tags REF
  meshwasm-oras istio-check REF [--sha256 HEX] [--oci-layout]
  meshwasm-oras login REGISTRY [-u USER] [-p PASS | --password-stdin | --identity-token T]
  meshwasm-oras logout REGISTRY

REF is registry/repo[:tag[,tag…]|@sha256:…]; with --oci-layout it is DIR[:TAG] (an OCI image
layout, no registry needed). Plain HTTP is used for localhost/127.0.0.1/[::1] automatically and
elsewhere only with --plain-http. Credentials: -u/-p/--password-stdin, else
$DOCKER_CONFIG/config.json (credHelpers, credsStore, auths); --registry-config DIR overrides it.

Common flags: --plain-http, --format json (machine-readable output), -d/--debug (or -v/--verbose:
every request, retry and resume on stderr, never a secret), --timeout SECONDS (per request,
default 120), --retries N (429/5xx/resets/timeouts, default 4).
For push-wasm, --format takes oci (default; Istio 2-layer variant) or compat (OCI image with one
tar+gzip layer holding plugin.wasm); repeat it to combine with json: --format compat --format json.
`;

export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.stderr(`Error: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals: pos } = parsed;
  if (v.help || pos.length === 0 || pos[0] === 'help') {
    io.stdout(USAGE);
    return pos.length === 0 && !v.help ? 2 : 0;
  }
  const [cmd, ...args] = pos;
  let credential: Credential | undefined;
  const secrets: string[] = [];
  const scrubbed = (text: string) => secrets.reduce((t, s) => (s ? t.split(s).join('***') : t), text);
  try {
    if (v['password-stdin']) {
      if (v.password) throw new UsageError('--password and --password-stdin are mutually exclusive');
      v.password = io.stdin().replace(/\r?\n$/, '');
    }
    if (v.password) secrets.push(v.password);
    if (v['identity-token']) secrets.push(v['identity-token']);
    if (v.username || v.password || v['identity-token']) {
      if (v.password && !v.username) throw new UsageError('--password requires --username');
      credential = { username: v.username, password: v.password, identityToken: v['identity-token'] };
    }
    const timeoutMs = v.timeout === undefined ? undefined : Math.round(Number(v.timeout) * 1000);
    if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
      throw new UsageError(`--timeout must be a positive number of seconds (got ${JSON.stringify(v.timeout)})`);
    }
    const retries = v.retries === undefined ? undefined : Number(v.retries);
    if (retries !== undefined && !(Number.isInteger(retries) && retries >= 0 && retries <= 20)) {
      throw new UsageError(`--retries must be a whole number from 0 to 20 (got ${JSON.stringify(v.retries)})`);
    }
    const verbose = v.debug || v.verbose;
    const configDir = v['registry-config']?.replace(/\/config\.json$/, '') ?? io.env.DOCKER_CONFIG;
    const conn: ConnectOptions = {
      plainHttp: v['plain-http'],
      credential,
      dockerConfigDir: configDir,
      clientOptions: {
        chunkSize: v['chunk-size'] ? Number(v['chunk-size']) : undefined,
        log: verbose ? (l) => io.stderr(`debug: ${scrubbed(l)}\n`) : undefined,
        timeoutMs,
        retries,
      },
    };
    if (conn.clientOptions!.chunkSize !== undefined && !(conn.clientOptions!.chunkSize! > 0)) {
      throw new UsageError('--chunk-size must be a positive number of bytes');
    }
    const print = (text: string, json: unknown) => io.stdout(outputJson(v) ? `${JSON.stringify(json, null, 2)}\n` : text);
    switch (cmd) {
      case 'push-wasm':
        return await cmdPushWasm(args, v, conn, print, io);
      case 'push':
        return await cmdPush(args, v, conn, print, io);
      case 'pull':
        return await cmdPull(args, v, conn, print);
      case 'cp':
        return await cmdCopy(args, v, conn, print);
      case 'manifest':
        if (args[0] !== 'fetch') throw new UsageError('usage: manifest fetch REF');
        return await cmdManifestFetch(args.slice(1), v, conn, io);
      case 'resolve': {
        need(args, 1, 'resolve REF');
        const digest = v['oci-layout']
          ? (() => {
              const t = parseLayoutTarget(args[0]);
              return resolveInLayout(t.dir, t.tag).digest;
            })()
          : await resolveDigest(args[0], conn);
        print(`${digest}\n`, { digest });
        return 0;
      }
      case 'tag':
        return await cmdTag(args, v, conn, print);
      case 'repo': {
        if (args[0] !== 'tags') throw new UsageError('usage: repo tags REF');
        need(args.slice(1), 1, 'repo tags REF');
        const r = parseReference(args[1], { allowNoTag: true });
        const tags = await makeClient(conn).repository({ registry: r.registry, repository: r.repository }).tags();
        print(tags.map((t) => `${t}\n`).join(''), { tags });
        return 0;
      }
      case 'istio-check':
        return await cmdIstioCheck(args, v, conn, print);
      case 'login':
        return await cmdLogin(args, v, conn, credential, print);
      case 'logout': {
        need(args, 1, 'logout REGISTRY');
        const removed = new DockerConfig(configDir, io.env).erase(args[0]);
        print(removed ? `Removed login credentials for ${args[0]}\n` : `Not logged in to ${args[0]}\n`, { registry: args[0], removed });
        return 0;
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
    }
  } catch (err) {
    const msg = scrubbed((err as Error).message ?? String(err));
    if (err instanceof UsageError) {
      io.stderr(`Error: ${msg}\n\nRun "meshwasm-oras help" for usage.\n`);
      return 2;
    }
    io.stderr(`Error: ${msg}\n`);
    return 1;
  }
}

async function cmdPull(args: string[], v: Values, conn: ConnectOptions, print: Print): Promise<number> {
  need(args, 1, 'pull REF [-o DIR]');
  const out = v.output ?? '.';
  if (v['oci-layout']) {
    const t = parseLayoutTarget(args[0]);
    const desc = resolveInLayout(t.dir, t.tag);
    const json = JSON.parse(readBlob(t.dir, desc.digest).toString('utf8')) as { layers?: Descriptor[] };
    const files: { path: string; digest: string }[] = [];
    mkdirSync(out, { recursive: true });
    for (const l of json.layers ?? []) {
      const title = l.annotations?.[Annotation.title];
      if (!title) continue;
      if (isAbsolute(title) || normalize(title).split(sep).includes('..')) {
        throw new Error(`refusing to write ${JSON.stringify(title)}: path traversal`);
      }
      const p = join(out, title);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, readBlob(t.dir, l.digest));
      files.push({ path: p, digest: l.digest });
    }
    print(`Pulled ${t.dir}:${t.tag ?? ''}\n${files.map((f) => `  ${f.path}\n`).join('')}Digest: ${desc.digest}\n`, { digest: desc.digest, files });
    return 0;
  }
  const r = await pull(args[0], out, conn);
  print(`Pulled ${args[0]}\n${r.files.map((f) => `  ${f.path}\n`).join('')}Digest: ${r.digest}\n`, r);
  return 0;
}

async function cmdCopy(args: string[], v: Values, conn: ConnectOptions, print: Print): Promise<number> {
  need(args, 2, 'cp SRC DST');
  const [src, dst] = args;
  let digest: string;
  if (v['from-oci-layout'] && v['to-oci-layout']) throw new UsageError('cp between two layouts is not supported; use cp -r of the directory');
  if (v['to-oci-layout']) {
    const t = parseLayoutTarget(dst);
    digest = await pullToLayout(src, t.dir, t.tag, conn);
  } else if (v['from-oci-layout']) {
    const s = parseLayoutTarget(src);
    digest = (await pushLayout({ ...conn, layoutDir: s.dir, layoutTag: s.tag, ref: dst, chunkSize: conn.clientOptions?.chunkSize })).digest;
  } else {
    const tmp = mkdtempSync(join(tmpdir(), 'meshwasm-oras-cp-'));
    try {
      digest = await pullToLayout(src, tmp, 'cp', conn);
      await pushLayout({ ...conn, layoutDir: tmp, layoutTag: 'cp', ref: dst, mountFrom: [], chunkSize: conn.clientOptions?.chunkSize });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  print(`Copied ${src} => ${dst}\nDigest: ${digest}\n`, { source: src, destination: dst, digest });
  return 0;
}

async function cmdManifestFetch(args: string[], v: Values, conn: ConnectOptions, io: CliIO): Promise<number> {
  need(args, 1, 'manifest fetch REF');
  let bytes: Buffer;
  let desc: Descriptor;
  if (v['oci-layout']) {
    const t = parseLayoutTarget(args[0]);
    desc = resolveInLayout(t.dir, t.tag);
    bytes = readBlob(t.dir, desc.digest);
    desc = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
  } else {
    const m = await fetchManifest(args[0], conn);
    bytes = m.manifest;
    desc = m.descriptor;
  }
  const out = v.descriptor
    ? Buffer.from(JSON.stringify(desc, null, v.pretty ? 2 : undefined) + '\n')
    : v.pretty
      ? Buffer.from(JSON.stringify(JSON.parse(bytes.toString('utf8')), null, 2) + '\n')
      : bytes;
  if (v.output && v.output !== '-') writeFileSync(v.output, out);
  else io.stdout(out.toString('utf8'));
  return 0;
}

async function cmdTag(args: string[], v: Values, conn: ConnectOptions, print: Print): Promise<number> {
  need(args, 2, 'tag REF TAG...');
  const [src, ...tags] = args;
  let digest: string;
  if (v['oci-layout']) {
    const t = parseLayoutTarget(src);
    const desc = resolveInLayout(t.dir, t.tag);
    for (const tag of tags) tagInLayout(t.dir, desc, tag);
    digest = desc.digest;
  } else {
    digest = await tagRemote(src, tags, conn);
  }
  print(tags.map((t) => `Tagged ${t}\n`).join('') + `Digest: ${digest}\n`, { digest, tags });
  return 0;
}

async function cmdIstioCheck(args: string[], v: Values, conn: ConnectOptions, print: Print): Promise<number> {
  need(args, 1, 'istio-check REF');
  const r = v['oci-layout']
    ? await (async () => {
        const t = parseLayoutTarget(args[0]);
        return istioCheckLayout(t.dir, t.tag, v.sha256);
      })()
    : await istioCheckRemote(args[0], { ...conn, sha256: v.sha256 });
  print(
    `Istio accepts ${args[0]}\nWasmPlugin sha256 (oci://): ${r.manifestSha256}\nWasm sha256: ${r.wasmSha256} (${r.wasm.length} bytes)\n`,
    { accepted: true, manifestSha256: r.manifestSha256, wasmSha256: r.wasmSha256, wasmSize: r.wasm.length },
  );
  return 0;
}

async function cmdLogin(args: string[], v: Values, conn: ConnectOptions, credential: Credential | undefined, print: Print): Promise<number> {
  need(args, 1, 'login REGISTRY -u USER --password-stdin');
  const registry = args[0];
  if (!credential) throw new UsageError('login needs -u/--username with -p/--password or --password-stdin (or --identity-token)');
  const client = makeClient(conn);
  await client.login(registry);
  const store = new DockerConfig(conn.dockerConfigDir);
  const { where } = store.store(registry, credential);
  print(`Login Succeeded (credentials stored in ${where})\n`, { registry, stored: where });
  return 0;
}
