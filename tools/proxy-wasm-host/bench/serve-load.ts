// Load benchmark (not a test): `serve` with the header filter (packages/header, Lab 1 config) in front of the
// built-in echo upstream, driven by a bounded keep-alive load generator on loopback.
//   npx tsx bench/serve-load.ts [requests=20000] [concurrency=32]
import { existsSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EnvoyLikeProxy } from '../src/serve';
import { startEcho } from '../src/servers';
import { noopModule } from '../src/testing/wasm-builder';

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 20000), conc = Number(process.argv[3] ?? 32);
  const echo = await startEcho({ port: 0 });
  const headerWasm = resolve(__dirname, '../../../packages/header/dist/header.wasm');
  const labJson = resolve(__dirname, '../../../packages/header/examples/lab.json');
  const dir = mkdtempSync(join(tmpdir(), 'pwh-bench-'));
  let wasm = headerWasm, config = existsSync(labJson) ? readFileSync(labJson, 'utf8') : '{}', label = 'header filter (Lab 1)';
  if (!existsSync(headerWasm)) { wasm = join(dir, 'noop.wasm'); writeFileSync(wasm, noopModule()); config = ''; label = 'no-op filter (build packages/header first for the header filter)'; }
  const yaml = `static_resources:
  listeners:
  - name: main
    address: { socket_address: { address: 127.0.0.1, port_value: 0 } }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: bench
          route_config: { virtual_hosts: [ { name: all, domains: ["*"], routes: [ { match: { prefix: "/" }, route: { cluster: echo } } ] } ] }
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: header
                root_id: header
                configuration: { "@type": type.googleapis.com/google.protobuf.StringValue, value: ${JSON.stringify(config)} }
                vm_config: { runtime: envoy.wasm.runtime.v8, code: { local: { filename: ${wasm} } } }
          - name: envoy.filters.http.router
  clusters:
  - name: echo
    type: STATIC
    load_assignment: { cluster_name: echo, endpoints: [ { lb_endpoints: [ { endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${echo.port} } } } } ] } ] }
`;
  const file = join(dir, 'envoy.yaml');
  writeFileSync(file, yaml);
  const proxy = await EnvoyLikeProxy.fromFile(file, { log: () => {} });
  await proxy.start();
  const port = proxy.listeners[0].port;
  const agent = new Agent({ keepAlive: true, maxSockets: conc });
  const one = () => new Promise<number>((res, rej) => {
    const r = request({ host: '127.0.0.1', port, path: '/bench', agent }, (x) => { x.resume(); x.on('end', () => res(x.statusCode ?? 0)); });
    r.on('error', rej); r.end();
  });
  let sent = 0, ok = 0;
  const worker = async () => { while (sent < total) { sent++; if ((await one()) === 200) ok++; } };
  await Promise.all(Array.from({ length: conc }, worker)); // warm-up pass uses the same loop below
  sent = 0; ok = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: conc }, worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`serve + ${label}: ${(total / secs).toFixed(0)} requests/s (${total} requests, concurrency ${conc}, ${ok} ok; load generator in the same process; target >= 5000)\n`);
  agent.destroy();
  await proxy.stop(); await echo.close();
}
void main();
