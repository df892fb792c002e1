// proxy-wasm-host CLI: run | serve | echo | metadata
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadPlugin, PluginLoadError, type Plugin } from './plugin';
import type { TcpConnection } from './connection';
import type { ExchangeRequest, ExchangeResult, CallResponse } from './exchange';
import type { HeaderList } from './headers';
import { EnvoyLikeProxy, FilterConfigRejected, ListenError } from './serve';
import { startEcho, startMetadataService, type RunningServer } from './servers';
import { endWithSignalsAndParent } from './lifetime';

const USAGE = `usage:
  proxy-wasm-host run FILE.wasm [--config JSON|@file] [--method M] [--path P] [--authority A] [-H 'k: v']...
        [--body TEXT|@file] [--status N] [--response-header 'k: v']... [--response-body TEXT|@file]
        [--chunk BYTES] [--call-response STATUS:BODY|reset|timeout] [--fail-open] [--json]
        [--root-id ID] [--plugin-name NAME] [--vm-config TEXT|@file] [--env K=V]... [--cluster NAME]...
  proxy-wasm-host run FILE.wasm --tcp [--data TEXT|@file]... [--upstream-data TEXT|@file]... [--close client|upstream|none]
        [--config JSON|@file] [--fail-open] [--json] [--root-id ID] [--plugin-name NAME] [--env K=V]... [--cluster NAME]...
  proxy-wasm-host serve --envoy-config FILE [--echo PORT] [--metadata PORT] [--port LISTENER=PORT]... [--admin-port PORT]
        [--fail-open]
  proxy-wasm-host echo [--port 8080]
  proxy-wasm-host metadata [--port 8081]`;

const fileOr = (v: string | undefined): string | undefined => (v === undefined ? undefined : v.startsWith('@') ? readFileSync(v.slice(1), 'utf8') : v);
function header(h: string): [string, string] {
  const i = h.indexOf(':', h.startsWith(':') ? 1 : 0);
  if (i < 0) throw new Error(`bad header "${h}": expected 'name: value'`);
  return [h.slice(0, i).trim().toLowerCase(), h.slice(i + 1).trim()];
}

export function formatTrace(file: string, r: ExchangeResult, allLogs: Array<{ level: string; message: string }>, prefix: string): string {
  const lines: string[] = [];
  const hdrs = (hs: Array<[string, string]>, arrow: string) => hs.forEach(([k, v]) => lines.push(`  ${arrow} ${k}: ${v}`));
  lines.push(`plugin ${file}: ${r.configured ? 'configured' : 'configuration REJECTED'}${r.failed ? ', VM FAILED' : ''}`);
  lines.push('', 'logs:');
  for (const l of allLogs) lines.push(`  [${l.level}] wasm log${prefix ? ' ' + prefix : ''}: ${l.message}`);
  if (!allLogs.length) lines.push('  (none)');
  if (r.httpCalls.length) {
    lines.push('', 'http calls:');
    for (const c of r.httpCalls) { lines.push(`  -> cluster ${c.cluster} (timeout ${c.timeoutMs} ms)`); hdrs(c.headers, '  '); if (c.body) lines.push(`     body: ${JSON.stringify(c.body)}`); }
  }
  lines.push('', r.request ? 'upstream received:' : 'upstream received: nothing (the request never left the filter)');
  if (r.request) { hdrs(r.request.headers, '>'); if (r.request.body) lines.push(`  body: ${JSON.stringify(r.request.body)}`); }
  lines.push('', `client received: ${r.response.status || '(no response)'}${r.reset ? ' (stream reset)' : ''}`);
  hdrs(r.response.headers, '<');
  if (r.response.body) lines.push(`  body: ${JSON.stringify(r.response.body)}`);
  if (r.localReply) lines.push('', `local reply: ${r.localReply.status} details=${r.localReply.details}`);
  const m = Object.entries(r.metrics);
  if (m.length) { lines.push('', 'metrics:'); for (const [k, v] of m) lines.push(`  ${k} = ${typeof v === 'number' ? v : JSON.stringify(v)}`); }
  return lines.join('\n') + '\n';
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      config: { type: 'string' }, method: { type: 'string' }, path: { type: 'string' }, authority: { type: 'string' },
      header: { type: 'string', short: 'H', multiple: true }, body: { type: 'string' }, status: { type: 'string' },
      'response-header': { type: 'string', multiple: true }, 'response-body': { type: 'string' }, chunk: { type: 'string' },
      'call-response': { type: 'string' }, 'fail-open': { type: 'boolean' }, json: { type: 'boolean' },
      'root-id': { type: 'string' }, 'plugin-name': { type: 'string' }, 'vm-config': { type: 'string' },
      env: { type: 'string', multiple: true }, cluster: { type: 'string', multiple: true },
      tcp: { type: 'boolean' }, data: { type: 'string', multiple: true }, 'upstream-data': { type: 'string', multiple: true },
      close: { type: 'string' },
    },
  });
  const file = positionals[0];
  if (!file) throw new UsageError('missing FILE.wasm');
  const env = Object.fromEntries((values.env ?? []).map((e) => { const i = e.indexOf('='); return [e.slice(0, i), e.slice(i + 1)]; }));
  const plugin = await loadPlugin(file, {
    config: fileOr(values.config) ?? '', vmConfig: fileOr(values['vm-config']), rootId: values['root-id'], pluginName: values['plugin-name'],
    failurePolicy: values['fail-open'] ? 'FAIL_OPEN' : 'FAIL_CLOSED', env, clusters: values.cluster,
  });
  if (values.tcp) return runTcp(plugin, file, values);
  let callResponse: CallResponse | undefined;
  const cr = values['call-response'];
  if (cr === 'reset' || cr === 'timeout') callResponse = cr;
  else if (cr) { const i = cr.indexOf(':'); callResponse = { status: Number(i < 0 ? cr : cr.slice(0, i)), body: i < 0 ? '' : cr.slice(i + 1) }; }
  const chunk = values.chunk ? Number(values.chunk) : undefined;
  const req: ExchangeRequest = {
    method: values.method, path: values.path, authority: values.authority,
    headers: (values.header ?? []).map(header) as HeaderList, body: fileOr(values.body), chunkSize: chunk,
    response: { status: values.status ? Number(values.status) : 200, headers: (values['response-header'] ?? []).map(header) as HeaderList, body: fileOr(values['response-body']), chunkSize: chunk },
    callResponse,
  };
  const startLogs = plugin.logs.slice();
  const r = await plugin.exchange(req);
  const allLogs = [...startLogs, ...r.logs];
  if (values.json) {
    const { details: _d, reset: _r, ...rest } = r;
    process.stdout.write(JSON.stringify({ ...rest, logs: allLogs, details: r.details, reset: r.reset }, null, 2) + '\n');
  } else {
    process.stdout.write(formatTrace(file, r, allLogs, [values['plugin-name'], values['root-id']].filter(Boolean).join(' ')));
  }
  plugin.close();
  return r.configured ? 0 : 1;
}

/** `run --tcp`: one connection through the plugin as a network filter: every --data chunk from the client, then
 *  every --upstream-data chunk, then the close (default: the client closes). */
function runTcp(plugin: Plugin, file: string, values: { data?: string[]; 'upstream-data'?: string[]; close?: string; json?: boolean; 'plugin-name'?: string; 'root-id'?: string }): number {
  const close = values.close ?? 'client';
  if (!['client', 'upstream', 'none'].includes(close)) throw new UsageError(`--tcp: --close must be client, upstream or none (got "${close}")`);
  const startLogs = plugin.logs.slice();
  plugin.clearLogs();
  const steps: Array<{ from: 'client' | 'upstream'; data: string; status: string }> = [];
  let newConnection = 'n/a';
  let conn: TcpConnection | null = null;
  if (plugin.configured || plugin.failed) {
    conn = plugin.newConnection();
    newConnection = conn.newConnectionStatus;
    const chunks = (values.data ?? []).map((d) => fileOr(d)!);
    const up = (values['upstream-data'] ?? []).map((d) => fileOr(d)!);
    for (const d of chunks) { if (conn.closed) break; steps.push({ from: 'client', data: d, status: conn.downstreamData(d) }); }
    for (const d of up) { if (conn.closed || !conn.upstreamConnected) break; steps.push({ from: 'upstream', data: d, status: conn.upstreamData(d) }); }
    if (close === 'client') conn.closeDownstream('remote');
    else if (close === 'upstream') conn.closeUpstream();
  }
  const logs = [...startLogs, ...plugin.logs];
  const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
  const r = {
    configured: plugin.configured, failed: plugin.failed, newConnection, steps,
    sentUpstream: conn ? text(conn.sentUpstream) : '', sentDownstream: conn ? text(conn.sentDownstream) : '',
    heldDownstream: conn ? text(conn.heldDownstream) : '', heldUpstream: conn ? text(conn.heldUpstream) : '',
    closed: conn?.closed ?? false, closedBy: conn?.closedBy ?? null, closeDetails: conn?.closeDetails ?? null, logs,
  };
  if (values.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
  else {
    const prefix = [values['plugin-name'], values['root-id']].filter(Boolean).join(' ');
    const lines = [`plugin ${file}: ${r.configured ? 'configured' : 'configuration REJECTED'} (network filter)${r.failed ? ', VM FAILED' : ''}`, '', 'logs:'];
    for (const l of logs) lines.push(`  [${l.level}] wasm log${prefix ? ' ' + prefix : ''}: ${l.message}`);
    if (!logs.length) lines.push('  (none)');
    if (conn) {
      lines.push('', `connection #${conn.id}: on_new_connection ${newConnection}`);
      for (const st of steps) lines.push(`  ${st.from === 'client' ? '>' : '<'} ${st.from} ${JSON.stringify(st.data)}: ${st.status}`);
      lines.push(r.closed ? `  closed by ${r.closedBy === 'remote' ? 'the client' : 'the proxy'}${r.closeDetails ? ' (' + r.closeDetails + ')' : ''}` : '  open');
      lines.push('', `upstream received: ${JSON.stringify(r.sentUpstream)}${r.heldDownstream ? ` (held by the filter: ${JSON.stringify(r.heldDownstream)})` : ''}`);
      lines.push(`client received: ${JSON.stringify(r.sentDownstream)}${r.heldUpstream ? ` (held by the filter: ${JSON.stringify(r.heldUpstream)})` : ''}`);
    }
    process.stdout.write(lines.join('\n') + '\n');
  }
  plugin.close();
  return r.configured ? 0 : 1;
}

function portNumber(v: string, flag: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new UsageError(`${flag}: expected a port number (0 = any free port), got "${v}"`);
  return n;
}

class UsageError extends Error {}

/**
 * `serve`: loads every filter first (a refused configuration fails before any port is bound), then
 * the built-in services, then the listeners. Any failure closes what was started and exits non-zero
 * with one last line saying why and what to do. SIGINT, SIGTERM, SIGHUP or the parent's death
 * (npx killed) close everything and exit.
 */
async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      'envoy-config': { type: 'string', short: 'c' }, echo: { type: 'string' }, metadata: { type: 'string' },
      port: { type: 'string', multiple: true }, 'admin-port': { type: 'string' }, 'fail-open': { type: 'boolean' },
    },
  });
  const file = values['envoy-config'];
  if (!file) throw new UsageError('--envoy-config FILE is required');
  const portOverrides: Record<string, number> = {};
  for (const p of values.port ?? []) {
    const i = p.lastIndexOf('=');
    if (i <= 0) throw new UsageError(`--port expects LISTENER=PORT (a listener name from ${file}), got "${p}"`);
    portOverrides[p.slice(0, i)] = portNumber(p.slice(i + 1), `--port ${p.slice(0, i)}`);
  }
  const adminPort = values['admin-port'] === undefined ? undefined : portNumber(values['admin-port'], '--admin-port');
  const echoPort = values.echo === undefined ? undefined : portNumber(values.echo, '--echo');
  const metaPort = values.metadata === undefined ? undefined : portNumber(values.metadata, '--metadata');

  const services: RunningServer[] = [];
  let proxy: EnvoyLikeProxy | null = null;
  const stop = async () => { await proxy?.stop(); await Promise.all(services.map((s) => s.close())); };
  const life = endWithSignalsAndParent({ stop, onStop: (why) => process.stderr.write(`proxy-wasm-host serve: stopping (${why})\n`) });
  try {
    proxy = await EnvoyLikeProxy.fromFile(file, { portOverrides, adminPort, failOpen: values['fail-open'] });
    const names = proxy.listeners.map((l) => l.name);
    const unknown = Object.keys(portOverrides).filter((n) => !names.includes(n));
    if (unknown.length) throw new UsageError(`--port ${unknown[0]}=…: ${file} has no listener named "${unknown[0]}" (its listeners: ${names.join(', ') || 'none'})`);
    if (adminPort !== undefined && !proxy.admin) process.stderr.write(`[warning] --admin-port: ${file} has no admin listener; ignored\n`);
    const service = async (what: string, start: () => Promise<RunningServer>, port: number) => {
      const s = await start().catch((e: NodeJS.ErrnoException) => { throw e.code === 'EADDRINUSE' ? new ListenError(what, '127.0.0.1', port, e.code) : e; });
      services.push(s);
      process.stderr.write(`${what} on ${s.url}\n`);
    };
    if (echoPort !== undefined) await service('echo upstream', () => startEcho({ port: echoPort }), echoPort);
    if (metaPort !== undefined) await service('metadata service', () => startMetadataService({ port: metaPort }), metaPort);
    await proxy.start();
  } catch (e) {
    life.dispose();
    await stop();
    throw e;
  }
  return new Promise(() => {});
}

/** The last line of a failed command: what went wrong, then what to do about it. */
function failureLine(e: Error, argv: string[]): string {
  const file = argv[argv.indexOf('--envoy-config') + 1] ?? argv[argv.indexOf('-c') + 1];
  if (e instanceof FilterConfigRejected) return `${e.message}. Fix the configuration of filter "${e.filter}" in ${file ?? 'the Envoy config'}; serve did not start.`;
  if (e instanceof ListenError) return `${e.message}. Stop whatever holds port ${e.port}, or choose another port${e.what.startsWith('listener ') ? ` (--port ${e.what.slice(9)}=N, 0 = any free port)` : e.what === 'admin' ? ' (--admin-port N)' : ''}.`;
  if (e instanceof UsageError || (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) return `${e.message} (proxy-wasm-host --help prints the usage)`;
  return e.message;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'run') return run(rest);
  if (cmd === 'serve') return serve(rest);
  if (cmd === 'echo' || cmd === 'metadata') {
    const { values } = parseArgs({ args: rest, options: { port: { type: 'string' } } });
    const port = values.port ? portNumber(values.port, '--port') : cmd === 'echo' ? 8080 : 8081;
    const s = await (cmd === 'echo' ? startEcho({ port }) : startMetadataService({ port })).catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'EADDRINUSE' ? new ListenError(cmd, '127.0.0.1', port, e.code) : e;
    });
    endWithSignalsAndParent({ stop: () => s.close() });
    process.stderr.write(`${cmd} on ${s.url}\n`);
    return new Promise(() => {});
  }
  process.stderr.write(USAGE + '\n');
  return cmd === '--help' || cmd === '-h' ? 0 : 2;
}

main(process.argv.slice(2)).then((code) => { if (typeof code === 'number') process.exitCode = code; }, (e: Error) => {
  const argv = process.argv.slice(2);
  process.stderr.write(`proxy-wasm-host ${argv[0] ?? ''}: ${failureLine(e, argv)}\n`);
  // exit now: a failed command must not wait on anything still scheduled
  process.exit(e instanceof PluginLoadError ? 3 : e instanceof FilterConfigRejected || e instanceof ListenError ? 1 : 2);
});
