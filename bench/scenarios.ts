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

/** The scenarios of each filter (default: headers both ways with its lab config). */
export function filterScenarios(name: string, labConfig: unknown): Scenario[] {
  switch (name) {
    case 'redact':
      return [headersScenario(), bodyScenario('body 64 KiB', 64 * 1024), bodyScenario('body 1 MiB', 1024 * 1024)];
    default:
      void labConfig;
      return [headersScenario()];
  }
}
