import { describe, expect, it } from '@jest/globals';
import { validateEnvoyBootstrap } from '../src/envoy';
import { loadEnvoyProtos } from '../src/proto';
import { errorTexts, fixtureYaml } from './helpers';

type Json = Record<string, any>;
const good = (): Json => structuredClone(fixtureYaml('demo/envoy.yaml')) as Json;
const hcm = (b: Json): Json => b.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
const wasmConfig = (b: Json): Json => hcm(b).http_filters[0].typed_config.config;
const check = (b: unknown) => validateEnvoyBootstrap(b, 'envoy.yaml');

describe('Envoy protos', () => {
  it('loads the v3 API from @grpc/grpc-js-xds, skipping only files with unshipped dependencies', () => {
    const protos = loadEnvoyProtos();
    expect(protos.fileCount).toBeGreaterThan(300);
    expect(protos.root.lookupType('envoy.config.bootstrap.v3.Bootstrap').fieldsArray.length).toBeGreaterThan(20);
    for (const missing of protos.skipped.values()) expect(missing).toMatch(/^(opencensus|opentelemetry|io\/prometheus)\//);
    expect(loadEnvoyProtos()).toBe(protos); // cached per process
  });
});

describe('validateEnvoyBootstrap', () => {
  it('accepts a good bootstrap (snake_case and lowerCamel names, Durations, Any, StringValue config)', () => {
    const r = check(good());
    expect(errorTexts(r.issues)).toEqual([]);
    expect(r.listeners).toEqual(['ingress']);
    expect(r.clusters).toEqual(['upstream', 'metadata']);
    expect(r.wasmFilters).toHaveLength(1);
    expect(r.wasmFilters[0]).toMatchObject({ kind: 'http', rootId: 'demo', filename: 'dist/demo.wasm', configuration: { encoding: 'StringValue', value: { header: 'x-demo', value: '1' } } });
  });

  it('fails a misspelt field with its path and a suggestion', () => {
    const b = good();
    wasmConfig(b).vm_config.runtim = wasmConfig(b).vm_config.runtime;
    delete wasmConfig(b).vm_config.runtime;
    const texts = errorTexts(check(b).issues);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain('vm_config.runtim: unknown field "runtim" in envoy.extensions.wasm.v3.VmConfig (did you mean "runtime"?)');
    expect(texts[0]).toMatch(/^static_resources\.listeners\.0\.filter_chains\.0\.filters\.0\.typed_config\.http_filters\.0\.typed_config\.config\./);
  });

  it('fails wrong types: a number for a Duration, a string for a uint32, an unknown enum name, a number for a string', () => {
    const b = good();
    b.static_resources.clusters[0].connect_timeout = 5;
    b.static_resources.listeners[0].address.socket_address.port_value = 'eighty';
    hcm(b).codec_type = 'AUTOMATIC';
    b.static_resources.clusters[0].name = 42;
    const texts = errorTexts(check(b).issues).join('\n');
    expect(texts).toContain('static_resources.clusters.0.connect_timeout: expected a Duration string such as "5s" or "0.250s", got number 5');
    expect(texts).toContain('port_value: expected an integer (uint32), got string "eighty"');
    expect(texts).toContain('codec_type: unknown value "AUTOMATIC" for enum envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.CodecType');
    expect(texts).toContain('static_resources.clusters.0.name: expected a string, got number 42 (quote it in YAML)');
  });

  it('applies protoc-gen-validate rules: port range, required oneof, min_len, duration > 0', () => {
    const b = good();
    b.static_resources.listeners[0].address.socket_address.port_value = 70000;
    delete hcm(b).route_config;
    delete hcm(b).statPrefix;
    b.static_resources.clusters[1].connectTimeout = '0s';
    const texts = errorTexts(check(b).issues).join('\n');
    expect(texts).toContain('"port_value" must be <= 65535, got 70000');
    expect(texts).toContain('one of "rds", "route_config", "scoped_routes" is required (oneof "route_specifier"');
    expect(texts).toContain('"stat_prefix" must be at least 1 character(s) long (it is empty or missing)');
    expect(texts).toContain('static_resources.clusters.1.connectTimeout: "connect_timeout" must be > 0s, got 0s');
  });

  it('fails an unknown Any @type, with a hint, and a malformed type URL', () => {
    const b = good();
    wasmConfig(b).configuration['@type'] = 'type.googleapis.com/google.protobuf.StringValu';
    hcm(b).access_log[0].typed_config['@type'] = 'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';
    const texts = errorTexts(check(b).issues).join('\n');
    expect(texts).toContain('configuration.@type: unknown "@type" type.googleapis.com/google.protobuf.StringValu: no such message in Envoy\'s v3 API (did you mean "type.googleapis.com/google.protobuf.StringValue"?)');
    expect(texts).toContain('access_log.0.typed_config.@type: "@type" must be a type URL');
  });

  it('checks the fields inside an Any against the resolved type', () => {
    const b = good();
    hcm(b).access_log[0].typed_config.path = '/dev/stdout'; // a FileAccessLog field, not a StdoutAccessLog one
    const texts = errorTexts(check(b).issues);
    expect(texts).toEqual([expect.stringContaining('access_log.0.typed_config.path: unknown field "path" in envoy.extensions.access_loggers.stream.v3.StdoutAccessLog')]);
  });

  it('fails a route to a missing cluster, and only warns when CDS may provide it', () => {
    const b = good();
    hcm(b).route_config.virtual_hosts[0].routes[0].route.cluster = 'upstreem';
    const texts = errorTexts(check(b).issues);
    expect(texts).toEqual([expect.stringContaining('route.cluster: cluster "upstreem" is not defined in static_resources.clusters (defined: upstream, metadata)')]);
    b.dynamic_resources = { cds_config: { ads: {} } };
    const r = check(b);
    expect(errorTexts(r.issues)).toEqual([]);
    expect(r.issues.some((i) => i.severity === 'warning' && /must come from CDS/.test(i.message))).toBe(true);
  });

  it('fails duplicate names, a STATIC cluster with a host name and a shared listener address', () => {
    const b = good();
    b.static_resources.clusters.push({ ...b.static_resources.clusters[0] });
    b.static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address = 'localhost';
    b.static_resources.listeners.push({ ...b.static_resources.listeners[0] });
    const texts = errorTexts(check(b).issues).join('\n');
    expect(texts).toContain('static_resources.clusters.2.name: duplicate cluster name "upstream" (also at [0])');
    expect(texts).toContain('cluster "upstream" is STATIC but "localhost" is not an IP address');
    expect(texts).toContain('static_resources.listeners.1.name: duplicate listener name "ingress"');
    expect(texts).toContain('address 127.0.0.1:10000/TCP is already used by listener [0]');
  });

  it('requires the router to be the last HTTP filter', () => {
    const b = good();
    hcm(b).http_filters.reverse();
    const texts = errorTexts(check(b).issues).join('\n');
    expect(texts).toContain('http_filters.0: terminal filter "envoy.filters.http.router" (router) must be the last filter in the http filter chain');
    expect(texts).toContain('http_filters.1: the last http filter must be envoy.filters.http.router');
  });

  it('fails a network filter type in an HTTP filter slot', () => {
    const b = good();
    hcm(b).http_filters.unshift({ name: 'oops', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', stat_prefix: 'x', cluster: 'upstream' } });
    expect(errorTexts(check(b).issues)).toEqual([expect.stringContaining('http_filters.0.typed_config.@type: envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy is not an HTTP filter config')]);
  });

  it('accepts a Struct plugin configuration and rejects non-JSON StringValue text', () => {
    const b = good();
    wasmConfig(b).configuration = { '@type': 'type.googleapis.com/google.protobuf.Struct', value: { header: 'x-demo' } };
    const r = check(b);
    expect(errorTexts(r.issues)).toEqual([]);
    expect(r.wasmFilters[0].configuration).toMatchObject({ encoding: 'Struct', value: { header: 'x-demo' } });
    wasmConfig(b).configuration = { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: '{ header: nope' };
    expect(errorTexts(check(b).issues)).toEqual([expect.stringContaining('configuration.value: the plugin configuration is not valid JSON')]);
  });

  it('fails two members of one oneof and a field set under both of its names', () => {
    const b = good();
    wasmConfig(b).vm_config.code.local.inline_string = 'x';
    wasmConfig(b).rootId = 'demo';
    const texts = errorTexts(check(b).issues).join('\n');
    expect(texts).toMatch(/only one of "filename", "inline_bytes", "inline_string".* may be set \(oneof "specifier"\)/);
    expect(texts).toContain('config.rootId: field "root_id" is set twice (as "root_id" and "rootId")');
  });

  it('warns about deprecated fields without failing', () => {
    const b = good();
    b.static_resources.clusters[0].max_requests_per_connection = 10;
    const r = check(b);
    expect(errorTexts(r.issues)).toEqual([]);
    expect(r.issues).toContainEqual(expect.objectContaining({ severity: 'warning', message: 'field "max_requests_per_connection" of envoy.config.cluster.v3.Cluster is deprecated' }));
  });

  it('rejects a wasm filter in typed_per_filter_config and a missing vm_config', () => {
    const b = good();
    hcm(b).route_config.virtual_hosts[0].typed_per_filter_config = { 'envoy.filters.http.wasm': { '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm', config: { vm_config: { code: { local: { filename: 'x.wasm' } } } } } };
    delete wasmConfig(b).vm_config;
    const texts = errorTexts(check(b).issues).join('\n');
    expect(texts).toContain('the wasm HTTP filter does not support per-route configuration');
    expect(texts).toContain('wasm plugin has no vm_config');
  });

  it('fails a plugin configuration whose callout cluster is not defined', () => {
    const b = good();
    wasmConfig(b).configuration.value = JSON.stringify({ header: 'x-demo', cluster: 'metadata' });
    expect(errorTexts(check(b).issues)).toEqual([]);
    wasmConfig(b).configuration.value = JSON.stringify({ header: 'x-demo', cluster: 'metadta' });
    expect(errorTexts(check(b).issues)).toEqual([expect.stringContaining('configuration.value: the plugin configuration names cluster "metadta" (pluginConfig.cluster), which is not defined')]);
  });

  it('does not throw on garbage input', () => {
    for (const v of [null, 42, 'text', [], { static_resources: 'x' }, { static_resources: { clusters: [null, 7] } }]) {
      expect(errorTexts(check(v).issues).length).toBeGreaterThan(0);
    }
  });
});
