// build, run and serve through the real bin: Nx builds the header filter, the proxy-wasm host runs
// it, and `serve --config header=FILE` answers differently from the bootstrap's own configuration.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { freePort, lines, meshwasm, meshwasmAsync, plain, REPO, removeScratch, scratchDir, waitFor } from './helpers';

const HEADER_WASM = join(REPO, 'packages/header/dist/header.wasm');
const dir = scratchDir('meshwasm-serve-test-');
let listenPort: number;
let echoPort: number;

function bootstrap(listen: number, echo: number): string {
  return `static_resources:
  listeners:
    - name: main
      address: { socket_address: { address: 127.0.0.1, port_value: ${listen} } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: test
                route_config:
                  virtual_hosts:
                    - name: all
                      domains: ["*"]
                      routes:
                        - match: { prefix: "/" }
                          route: { cluster: echo }
                http_filters:
                  - name: envoy.filters.http.wasm
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
                      config:
                        name: header
                        root_id: header
                        configuration:
                          "@type": type.googleapis.com/google.protobuf.StringValue
                          value: '{"response":{"set":[{"name":"x-who","value":"bootstrap"}]}}'
                        vm_config:
                          runtime: envoy.wasm.runtime.v8
                          code: { local: { filename: ${HEADER_WASM} } }
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
    - name: echo
      type: STATIC
      load_assignment:
        cluster_name: echo
        endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${echo} } } } } ] } ]
`;
}

function get(port: number, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const running: ReturnType<typeof meshwasmAsync>[] = [];
afterAll(async () => {
  // A test that failed half-way leaves its server: SIGTERM (meshwasm passes it on to the host), then SIGKILL.
  for (const r of running) {
    if (r.child.exitCode !== null || r.child.signalCode !== null) continue;
    r.child.kill('SIGTERM');
    const t = setTimeout(() => r.child.kill('SIGKILL'), 10_000);
    await r.exit;
    clearTimeout(t);
  }
  removeScratch();
});

beforeAll(async () => {
  listenPort = await freePort();
  echoPort = await freePort();
  writeFileSync(join(dir, 'envoy.yaml'), bootstrap(listenPort, echoPort));
  writeFileSync(join(dir, 'mine.json'), JSON.stringify({ response: { set: [{ name: 'x-who', value: 'mine' }] } }));
});

describe('meshwasm build', () => {
  test('builds the filter with Nx and names the wasm', () => {
    const r = meshwasm(['build', 'header']);
    expect(r.code).toBe(0);
    expect(plain(r.out)).toContain('nx run header:build'); // Nx's own log
    expect(lines(r.err).pop()).toBe('built packages/header/dist/header.wasm');
    expect(existsSync(HEADER_WASM)).toBe(true);
  }, 600_000);

  test('inside a filter folder the filter is implied', () => {
    const r = meshwasm(['build'], { cwd: join(REPO, 'packages/header') });
    expect(r.code).toBe(0);
    expect(lines(r.err).pop()).toBe('built packages/header/dist/header.wasm');
  }, 600_000);
});

describe('meshwasm run', () => {
  test('a .wasm file with the host run options, output and exit code from the host', () => {
    const cfg = JSON.stringify({ request: { set: [{ name: 'x-run', value: 'yes' }] } });
    const r = meshwasm(['run', HEADER_WASM, '--config', cfg, '--path', '/p', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.configured).toBe(true);
    expect(j.request.headers).toContainEqual(['x-run', 'yes']);
    // a config the filter refuses: the host's exit code 1, passed through
    const bad = meshwasm(['run', HEADER_WASM, '--config', '{"request":{"set":[{"name":"x"}]}}']);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('configuration REJECTED');
  }, 120_000);

  test('a filter name: built first (output on stderr), run with examples/lab.json', () => {
    const lab = JSON.parse(readFileSync(join(REPO, 'packages/header/examples/lab.json'), 'utf8')) as { request: { set: { name: string; value: string }[] } };
    const r = meshwasm(['run', 'header', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out); // stdout is the host's JSON only: Nx wrote to stderr
    expect(plain(r.err)).toContain('nx run header:build');
    for (const h of lab.request.set) expect(j.request.headers).toContainEqual([h.name, h.value]);
    const u = meshwasm(['run', 'nope']);
    expect([u.code, u.out, lines(u.err).length]).toEqual([2, '', 1]);
  }, 600_000);
});

describe('meshwasm serve', () => {
  test('serves the bootstrap; with --config header=FILE the same listener answers with that config; SIGTERM stops it all', async () => {
    for (const [args, expected] of [
      [[], 'bootstrap'],
      [['--config', 'header=mine.json'], 'mine'],
    ] as [string[], string][]) {
      const s = meshwasmAsync(['serve', '--envoy-config', 'envoy.yaml', '--echo', String(echoPort), '--no-build', ...args], { cwd: dir });
      running.push(s);
      await waitFor(() => s.err().includes(`listener main on http://127.0.0.1:${listenPort}`) || s.child.exitCode !== null, () => s.err());
      expect(s.child.exitCode).toBeNull();
      const r = await get(listenPort, '/anything');
      expect(r.status).toBe(200);
      expect(r.headers['x-who']).toBe(expected);
      expect(r.headers['x-echo']).toBe('true'); // the host's echo upstream, started by --echo
      if (args.length) expect(s.err()).toContain('meshwasm serve: envoy.yaml with the pluginConfig of header from mine.json');
      s.child.kill('SIGTERM');
      const exit = await s.exit;
      expect(exit).toEqual({ code: 0, signal: null });
      // nothing listens any more: the host and its echo server stopped with meshwasm
      await expect(get(listenPort, '/')).rejects.toThrow(/ECONNREFUSED/);
      await expect(get(echoPort, '/')).rejects.toThrow(/ECONNREFUSED/);
    }
  }, 120_000);

  test('a config the filter schema refuses: one line, exit 2, nothing started', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ response: { set: [{ name: 'x-who' }] } }));
    const r = meshwasm(['serve', '--envoy-config', 'envoy.yaml', '--config', 'header=bad.json', '--no-build'], { cwd: dir });
    expect([r.code, r.out]).toEqual([2, '']);
    expect(lines(r.err)).toEqual([`meshwasm serve: bad.json: pluginConfig violates header's schema.json at /response/set/0: missing required field "value"`]);
  }, 60_000);

  test.each([
    [['--config', 'redact=mine.json'], 'meshwasm serve: --config redact=mine.json: envoy.yaml has no wasm filter "redact" (its wasm filters: header)'],
    [['--config', 'header'], 'meshwasm serve: --config "header": expected <filter>=FILE, e.g. --config redact=my.json'],
    [['--config', 'header=nope.json'], 'meshwasm serve: --config header=nope.json: cannot read nope.json (no such file)'],
    [['--echo', 'http'], 'meshwasm serve: --echo must be a port number (0-65535), got "http"'],
  ])('bad input %j: one line, exit 2', (args, line) => {
    const r = meshwasm(['serve', '--envoy-config', 'envoy.yaml', '--no-build', ...args], { cwd: dir });
    expect([r.code, r.out, r.err]).toEqual([2, '', `${line}\n`]);
  });

  test('the default bootstrap is deploy/envoy/envoy.yaml: its filters can be overridden by name', () => {
    writeFileSync(join(dir, 'bad-redact.json'), JSON.stringify({ rules: [] }));
    const r = meshwasm(['serve', '--config', `redact=${join(dir, 'bad-redact.json')}`]);
    expect([r.code, r.out]).toEqual([2, '']);
    expect(lines(r.err)).toEqual([`meshwasm serve: ${join(dir, 'bad-redact.json')}: pluginConfig violates redact's schema.json at /rules: must NOT have fewer than 1 items`]);
    const none = meshwasm(['serve', '--config', `nope=${join(dir, 'mine.json')}`]);
    expect(none.err).toMatch(/^meshwasm serve: --config nope=.*: deploy\/envoy\/envoy\.yaml has no wasm filter "nope" \(its wasm filters: http-timing, blocklist, callout, header, redact\)\n$/);
  });
});
