// How `serve` ends: a refused filter config or a taken port ends it with one last line saying why
// and what to do; a signal, or the death of the npx/npm process that started it, closes every
// listener. Every port here is ephemeral (other runs share this machine). The timeouts are
// guards for "it never exits", not speed goals.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFixture, PKG, ROOT } from './helpers';
import { EnvoyLikeProxy, FilterConfigRejected, ListenError } from '../src/serve';
import { accepts, allClosed, exitWithin, holdPort, killGroup, lastLine, portOf, startGroup, waitFor, type Run } from '../src/testing/processes';

const dir = mkdtempSync(join(tmpdir(), 'pwh-life-'));
const BIN = join(PKG, 'bin', 'proxy-wasm-host.cjs');
let kitchen: string;

/** An Envoy bootstrap with one listener per entry: [name, port, kitchen configuration]. */
function envoyYaml(listeners: Array<[string, number, string]>): string {
  const file = join(dir, `envoy-${Math.random().toString(36).slice(2)}.yaml`);
  const ls = listeners.map(([name, port, config]) => `
  - name: ${name}
    address: { socket_address: { address: 127.0.0.1, port_value: ${port} } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: echo } } ] } ] }
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config: { config: { name: kitchen-${name}, root_id: kitchen, configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: ${config} }, vm_config: { code: { local: { filename: ${kitchen} } } } } }
          - name: envoy.filters.http.router`).join('');
  writeFileSync(file, `static_resources:\n  listeners:${ls}\n  clusters:\n  - name: echo\n    load_assignment: { cluster_name: echo, endpoints: [] }\n`);
  return file;
}

const started: Run[] = [];
const start = (cmd: string, args: string[]) => startGroup(cmd, args, ROOT);

beforeAll(() => {
  kitchen = join(dir, 'kitchen.wasm');
  writeFileSync(kitchen, compileFixture('kitchen'));
});
afterAll(() => { for (const r of started) killGroup(r); });

describe('serve ends with the reason when it cannot start', () => {
  test('a configuration the filter refuses: exit 1, the filter and its reason on the last line, no port bound', async () => {
    const file = envoyYaml([['front', 0, 'fine'], ['back', 0, 'reject']]);
    const r = start(process.execPath, [BIN, 'serve', '--envoy-config', file, '--echo', '0', '--metadata', '0']);
    started.push(r);
    const exit = await exitWithin(r, 60_000);
    expect(exit).toEqual({ code: 1, signal: null });
    expect(lastLine(r.out())).toBe(`proxy-wasm-host serve: Unable to create Wasm HTTP filter kitchen-back: bad config: reject. Fix the configuration of filter "kitchen-back" in ${file}; serve did not start.`);
    // the filters load before anything listens
    expect(r.out()).not.toMatch(/listener \w+ on|echo upstream on|metadata service on/);
  }, 90_000);

  test('a listener port in use: exit 1 naming the listener, port and flag; what did listen is closed', async () => {
    const held = await holdPort();
    try {
      const file = envoyYaml([['front', 0, 'fine'], ['back', portOf(held), 'fine']]);
      const r = start(process.execPath, [BIN, 'serve', '--envoy-config', file, '--echo', '0']);
      started.push(r);
      const exit = await exitWithin(r, 60_000);
      expect(exit).toEqual({ code: 1, signal: null });
      const p = portOf(held);
      expect(lastLine(r.out())).toBe(`proxy-wasm-host serve: listener back cannot listen on 127.0.0.1:${p}: the port is in use by another process. Stop whatever holds port ${p}, or choose another port (--port back=N, 0 = any free port).`);
      const bound = [...r.out().matchAll(/(?:listener front|echo upstream) on http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
      expect(bound).toHaveLength(2);
      expect(await allClosed(bound, 10_000)).toBe(true);
    } finally { held.close(); }
  }, 90_000);

  test('EnvoyLikeProxy.start(): when a later listener cannot bind, the ones already bound are closed', async () => {
    const held = await holdPort();
    try {
      const proxy = await EnvoyLikeProxy.fromFile(envoyYaml([['front', 0, 'fine'], ['back', portOf(held), 'fine']]), { warn: () => {}, log: () => {} });
      const err = await proxy.start().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(ListenError);
      expect(proxy.listeners[0].server?.listening).toBe(false);
      expect(proxy.listeners[0].port).toBeGreaterThan(0); // it had been bound
      expect(await accepts(proxy.listeners[0].port)).toBe(false);
    } finally { held.close(); }
  });

  test('EnvoyLikeProxy.fromFile(): a refused configuration is a FilterConfigRejected naming the filter and what it logged', async () => {
    const err = await EnvoyLikeProxy.fromFile(envoyYaml([['front', 0, 'fine'], ['back', 0, 'reject']]), { warn: () => {}, log: () => {} }).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(FilterConfigRejected);
    expect((err as FilterConfigRejected).filter).toBe('kitchen-back');
    expect((err as FilterConfigRejected).reason).toBe('bad config: reject');
  });

  test('a bad flag: exit 2 and one line', () => {
    const r = spawnSync(process.execPath, [BIN, 'serve', '--envoy-config', envoyYaml([['front', 0, 'fine']]), '--port', 'front=http'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(lastLine(r.stderr)).toBe('proxy-wasm-host serve: --port front: expected a port number (0 = any free port), got "http" (proxy-wasm-host --help prints the usage)');
  }, 90_000);
});

describe('stopping serve frees every port', () => {
  // `npx proxy-wasm-host serve` is npm -> sh -c -> node: the server is a grandchild of the npx process
  const viaNpx = (file: string) => start('npx', ['proxy-wasm-host', 'serve', '--envoy-config', file, '--echo', '0', '--metadata', '0']);
  const ports = async (r: Run) => {
    const m = await waitFor(r, /listener front on http:\/\/127\.0\.0\.1:(\d+)/, 90_000);
    const echo = Number(/echo upstream on http:\/\/127\.0\.0\.1:(\d+)/.exec(r.out())![1]);
    const meta = Number(/metadata service on http:\/\/127\.0\.0\.1:(\d+)/.exec(r.out())![1]);
    return [Number(m[1]), echo, meta];
  };

  test('SIGTERM to the npx process alone (npm passes it to its shell only)', async () => {
    const r = viaNpx(envoyYaml([['front', 0, 'fine']]));
    started.push(r);
    const bound = await ports(r);
    expect(await Promise.all(bound.map(accepts))).toEqual([true, true, true]);
    process.kill(r.child.pid!, 'SIGTERM');
    expect(await allClosed(bound, 20_000)).toBe(true);
    expect(r.out()).toMatch(/proxy-wasm-host serve: stopping \(its parent process \d+ exited\)/);
  }, 120_000);

  test('Ctrl-C (SIGINT to the whole foreground process group)', async () => {
    const r = viaNpx(envoyYaml([['front', 0, 'fine']]));
    started.push(r);
    const bound = await ports(r);
    process.kill(-r.child.pid!, 'SIGINT');
    expect(await allClosed(bound, 20_000)).toBe(true);
    expect(await exitWithin(r, 20_000)).not.toBe('still running');
    expect(r.out()).toContain('proxy-wasm-host serve: stopping (SIGINT)');
  }, 120_000);

  test('spawnServe(): the serve child stops when its parent is killed outright (SIGKILL: no handler runs)', async () => {
    const parent = join(dir, 'parent.ts');
    writeFileSync(parent, `import { spawnServe } from ${JSON.stringify(join(PKG, 'src', 'lifetime'))};\nspawnServe(process.argv.slice(2));\n`);
    const r = start(process.execPath, ['--import', 'tsx', parent, '--envoy-config', envoyYaml([['front', 0, 'fine']]), '--echo', '0']);
    started.push(r);
    const m = await waitFor(r, /listener front on http:\/\/127\.0\.0\.1:(\d+)/, 90_000);
    const bound = [Number(m[1]), Number(/echo upstream on http:\/\/127\.0\.0\.1:(\d+)/.exec(r.out())![1])];
    process.kill(r.child.pid!, 'SIGKILL');
    expect(await allClosed(bound, 20_000)).toBe(true);
  }, 120_000);
});
