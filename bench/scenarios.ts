/**
 * Benchmark scenarios: one call of `run` is one full exchange (context create, request phases,
 * response phases, log/done/delete) through tools/proxy-wasm-host.
 */
import type { HeaderList, Plugin } from '@meshwasm/proxy-wasm-host';

export interface Scenario {
  name: string;
  /** pluginConfig override for this scenario (default: the target's config) */
  config?: unknown;
  /** body bytes per exchange, for MB/s */
  bodyBytes?: number;
  /** a smaller count for heavy scenarios (default 1) */
  weight?: number;
  run(plugin: Plugin): void;
}

/** A typical `curl http://host/path` request as Envoy hands it to filters (HTTP/1.1). */
export const REQUEST: HeaderList = [
  [':authority', 'api.internal.example'],
  [':path', '/v1/orders?limit=10'],
  [':method', 'GET'],
  [':scheme', 'http'],
  ['user-agent', 'curl/8.5.0'],
  ['accept', '*/*'],
  ['x-forwarded-proto', 'http'],
  ['x-request-id', '0d1b2c3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d'],
];

export const RESPONSE: HeaderList = [
  [':status', '200'],
  ['content-type', 'application/json'],
  ['content-length', '2'],
];

/** Headers only, both directions: the exchange the Rust reference figures use. */
export function headersScenario(): Scenario {
  return {
    name: 'headers',
    run(plugin) {
      const s = plugin.newStream();
      s.sendRequestHeaders(REQUEST, true);
      s.sendResponseHeaders(RESPONSE, true);
      s.complete();
    },
  };
}

function jsonBody(size: number): Uint8Array {
  const parts: string[] = [];
  let n = 0;
  let i = 0;
  while (n < size) {
    const rec = `{"id":${i},"note":"order ${i} for customer ${i * 7}","SECRET=":"x","text":"SECRET=s3cr3t-${i} and more words"},`;
    parts.push(rec);
    n += rec.length;
    i++;
  }
  const s = ('[' + parts.join('')).slice(0, size - 1) + ']';
  return new TextEncoder().encode(s);
}

/** A request body of `size` bytes in `chunk`-byte chunks, then a small response. */
export function bodyScenario(name: string, size: number, chunk = 16 * 1024): Scenario {
  const body = jsonBody(size);
  const reqHeaders: HeaderList = [
    [':authority', 'api.internal.example'],
    [':path', '/v1/orders'],
    [':method', 'POST'],
    [':scheme', 'http'],
    ['content-type', 'application/json'],
    ['content-length', String(size)],
  ];
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < body.length; o += chunk) chunks.push(body.subarray(o, Math.min(body.length, o + chunk)));
  return {
    name,
    bodyBytes: size,
    weight: Math.max(1, Math.round(size / 4096)),
    run(plugin) {
      const s = plugin.newStream();
      s.sendRequestHeaders(reqHeaders, false);
      for (let i = 0; i < chunks.length; i++) s.sendRequestBody(chunks[i], i === chunks.length - 1);
      s.sendResponseHeaders(RESPONSE, true);
      s.complete();
    },
  };
}

/** Headers both ways with stream properties (e.g. the listener direction http-timing reads). */
function headersWithProperties(name: string, properties: Record<string, unknown>): Scenario {
  return {
    name,
    run(plugin) {
      const s = plugin.newStream({ properties: properties as never });
      s.sendRequestHeaders(REQUEST, true);
      s.sendResponseHeaders(RESPONSE, true);
      s.complete();
    },
  };
}

/** A deny list of `n` entries (exact names, suffixes and wildcards), none matching REQUEST's authority. */
function blocklistConfig(n: number): unknown {
  const deny: string[] = [];
  for (let i = 0; i < n; i++) {
    const k = i % 3;
    deny.push(k === 0 ? `host${i}.blocked.example` : k === 1 ? `*.tenant${i}.example.net` : `.zone${i}.example.org`);
  }
  return { mode: 'deny', deny, response: { status: 451, body: 'blocked by wasm' } };
}

/** Headers both ways, cycling through authorities that exercise normalisation and every trie path. */
function authorityCycle(): Scenario {
  const authorities = ['api.internal.example:8443', 'www.host3.blocked.example', 'Shop.Tenant1.Example.NET.', '[2001:db8::1]:443', 'xn--bcher-kva.de'];
  const requests = authorities.map((a) => REQUEST.map(([k, v]) => [k, k === ':authority' ? a : v]) as HeaderList);
  let i = 0;
  return {
    name: 'authorities',
    run(plugin) {
      const s = plugin.newStream();
      s.sendRequestHeaders(requests[i++ % requests.length], true);
      s.sendResponseHeaders(RESPONSE, true);
      s.complete();
    },
  };
}

/** callout: a request that calls out and is resumed by the answer. */
function calloutCallScenario(): Scenario {
  return {
    name: 'callout + answer',
    run(plugin) {
      const s = plugin.newStream();
      s.sendRequestHeaders(REQUEST, true);
      const calls = plugin.pendingHttpCalls();
      for (const c of calls) plugin.respondHttpCall(c.token, { headers: [[':status', '200'], ['content-type', 'application/json']], body: '{"tier":"gold"}' });
      s.sendResponseHeaders(RESPONSE, true);
      s.complete();
    },
  };
}

/** An answer object of `keys` members (`"k<i>":<i>`) and the `tier` a json mapping reads, last. */
function manyKeysAnswer(keys: number): string {
  const members: string[] = [];
  for (let i = 0; i < keys; i++) members.push(`"k${i}":${i}`);
  return `{${members.join(',')},"tier":"gold"}`;
}

/**
 * callout: a request resumed by a large JSON answer (`keys` members, within the default
 * maxAnswerBytes of 64 KiB), mapped with `source: json`: the JSON reader's cost per answer.
 */
function calloutManyKeysScenario(labConfig: unknown, keys: number): Scenario {
  const body = manyKeysAnswer(keys);
  const config = { ...(labConfig as object), mappings: [{ header: 'x-tier', source: 'json', path: 'tier' }] };
  return {
    name: `answer of ${keys.toLocaleString('en')} keys (${(body.length / 1024).toFixed(0)} KiB)`,
    config,
    weight: Math.max(1, Math.round(body.length / 4096)),
    run(plugin) {
      const s = plugin.newStream();
      s.sendRequestHeaders(REQUEST, true);
      for (const c of plugin.pendingHttpCalls()) plugin.respondHttpCall(c.token, { headers: [[':status', '200'], ['content-type', 'application/json']], body });
      s.sendResponseHeaders(RESPONSE, true);
      s.complete();
    },
  };
}

/** The scenarios of each filter (default: headers both ways with its lab config). */
export function filterScenarios(name: string, labConfig: unknown): Scenario[] {
  switch (name) {
    case 'redact':
      return [headersScenario(), bodyScenario('body 64 KiB', 64 * 1024), bodyScenario('body 1 MiB', 1024 * 1024)];
    case 'blocklist':
      return [
        { ...authorityCycle(), name: '10 entries', config: blocklistConfig(10) },
        { ...authorityCycle(), name: '10,000 entries', config: blocklistConfig(10_000) },
      ];
    case 'callout': {
      const cached = { ...(labConfig as object), cache: { keyHeader: 'user-agent', ttlMs: 3_600_000 } };
      return [
        calloutCallScenario(),
        // The first exchange fills the cache; every later one is a hit (no call out).
        { ...calloutCallScenario(), name: 'cache hit', config: cached },
        calloutManyKeysScenario(labConfig, 5_000),
      ];
    }
    case 'http-timing':
      return [headersWithProperties('inbound 200', { 'xds.listener_direction': 1 })];
    default:
      return [headersScenario()];
  }
}
