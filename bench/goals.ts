/**
 * The goals of issues 3, 4 and 5, checked against one run. The Rust SDK cannot be built here;
 * its figures are the reference points measured on these machines in a minimal V8 host with
 * the course's Lab 1 code (proxy-wasm 0.2, the course's release profile).
 */
import type { TargetResult } from './measure';
import type { ServeLoadResult } from '@meshwasm/proxy-wasm-host/bench/serve-load';

export const RUST_REFERENCE = {
  noopNs: 500,
  headerNs: 1400, // lower end of the 1.4–1.8 µs range
  headerWasmBytes: 104 * 1024,
  redact64KiBNs: 84_000,
};

export const GOALS = [
  'no-op exchange (minimal V8 host) ≤ the Rust SDK no-op (≈500 ns)',
  'header exchange (minimal V8 host) ≤ the Rust SDK header filter (≈1.4 µs)',
  'no-op and header ≥ 5× faster than @gcoredev/proxy-wasm-sdk-as, in the same run (minimal V8 host; our host shown too)',
  'header .wasm ≤ 8 KB; every filter ≤ 24 KB',
  'linear memory ≤ 128 KiB after warm-up, and flat over the long run',
  "the host's own cost (no-op exchange in tools/proxy-wasm-host) ≤ 1 µs",
  'redact: a 64 KiB body exchange (minimal V8 host) ≤ the Rust literal-masking figure (≈84 µs)',
  'blocklist: 10,000 entries cost within 2× of 10 entries',
  '`proxy-wasm-host serve` with the header filter ≥ 5,000 requests/s on one core (bounded loopback load)',
];

export interface GoalResult {
  goal: string;
  value: string;
  pass: boolean | null; // null: not measurable in this run
}

function byId(rs: TargetResult[], id: string): TargetResult | undefined {
  return rs.find((r) => r.id === id && !r.error);
}

function scenarioNs(r: TargetResult | undefined, name = 'headers'): number | undefined {
  return r?.scenarios.find((s) => s.name === name)?.nsPerExchange;
}

const fmt = (ns: number | undefined) => (ns === undefined ? 'n/a' : ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`);

export function checkGoals(rs: TargetResult[], smoke: boolean, serve: ServeLoadResult | null = null): GoalResult[] {
  const out: GoalResult[] = [];
  const noop = byId(rs, 'noop');
  const header = byId(rs, 'header');
  // Speed goals compare the same Lab 1 code on each SDK (header-lab1); the production filter is
  // reported too. Sizes use the production filter.
  const lab1 = byId(rs, 'header-lab1') ?? header;
  const pNoop = byId(rs, 'peer-noop');
  const pHeader = byId(rs, 'peer-header');
  // In a smoke pass the figures are too short to judge speed; only sizes and memory count.
  const speed = (ok: boolean) => (smoke ? null : ok);

  const nNoop = noop?.minimalHost?.nsPerExchange;
  out.push({ goal: GOALS[0], value: fmt(nNoop), pass: nNoop === undefined ? null : speed(nNoop <= RUST_REFERENCE.noopNs) });
  const nHeader = lab1?.minimalHost?.nsPerExchange;
  const nProd = header?.minimalHost?.nsPerExchange;
  out.push({
    goal: GOALS[1],
    value: `${fmt(nHeader)} (Lab 1 code)${lab1 !== header && nProd !== undefined ? `; production filter ${fmt(nProd)}` : ''}`,
    pass: nHeader === undefined ? null : speed(nHeader <= RUST_REFERENCE.headerNs),
  });

  const ratios: string[] = [];
  let ratioOk = true;
  for (const [ours, peer, label] of [[noop, pNoop, 'no-op'], [lab1, pHeader, 'header (Lab 1 code)']] as const) {
    if (!ours || !peer) { ratioOk = false; continue; }
    const rMin = (peer.minimalHost?.nsPerExchange ?? NaN) / (ours.minimalHost?.nsPerExchange ?? NaN);
    const rHost = (scenarioNs(peer) ?? NaN) / (scenarioNs(ours) ?? NaN);
    ratios.push(`${label}: ${rMin.toFixed(1)}× (minimal host), ${rHost.toFixed(1)}× (our host)`);
    // Judged in the minimal host, where the reference figures come from; in our host its own
    // cost (~0.6 µs) is added to both sides and compresses the ratio, so that one is information.
    ratioOk &&= rMin >= 5;
  }
  if (header && pHeader && lab1 !== header) {
    const r = (pHeader.minimalHost?.nsPerExchange ?? NaN) / (header.minimalHost?.nsPerExchange ?? NaN);
    ratios.push(`production header filter: ${r.toFixed(1)}× (minimal host)`);
  }
  out.push({ goal: GOALS[2], value: ratios.join('; ') || 'n/a', pass: ratios.length >= 2 ? speed(ratioOk) : null });

  const ours = rs.filter((r) => r.sdk === 'as-proxy-wasm' && r.id !== 'noop' && r.id !== 'header-lab1' && !r.error);
  const sizeOk = (header ? header.wasmBytes <= 8 * 1024 : false) && ours.every((r) => r.wasmBytes <= 24 * 1024);
  out.push({ goal: GOALS[3], value: ours.map((r) => `${r.id} ${r.wasmBytes} B`).join(', '), pass: header ? sizeOk : null });

  const mine = rs.filter((r) => r.sdk === 'as-proxy-wasm' && !r.error);
  const memOk = mine.every((r) => r.memory.afterWarmup <= 128 * 1024 && r.memory.flat);
  out.push({
    goal: GOALS[4],
    value: mine.map((r) => `${r.id} ${(r.memory.afterWarmup / 1024).toFixed(0)}→${(r.memory.afterN / 1024).toFixed(0)} KiB`).join(', '),
    pass: mine.length ? memOk : null,
  });

  const hostNoop = scenarioNs(noop);
  out.push({ goal: GOALS[5], value: fmt(hostNoop), pass: hostNoop === undefined ? null : speed(hostNoop <= 1000) });

  const redact = byId(rs, 'redact');
  const r64 = redact?.minimalBody?.find((b) => b.bytes === 64 * 1024)?.nsPerExchange;
  const r64host = scenarioNs(redact, 'body 64 KiB');
  out.push({
    goal: GOALS[6],
    value: r64 === undefined ? 'n/a' : `${fmt(r64)} (minimal host), ${fmt(r64host)} (our host)`,
    pass: r64 === undefined ? null : speed(r64 <= RUST_REFERENCE.redact64KiBNs),
  });

  const bl = byId(rs, 'blocklist');
  const b10 = scenarioNs(bl, '10 entries');
  const b10k = scenarioNs(bl, '10,000 entries');
  out.push({
    goal: GOALS[7],
    value: b10 === undefined || b10k === undefined ? 'n/a' : `${fmt(b10)} vs ${fmt(b10k)} (${(b10k / b10).toFixed(2)}×)`,
    pass: b10 === undefined || b10k === undefined ? null : speed(b10k <= 2 * b10),
  });
  out.push({
    goal: GOALS[8],
    value: serve
      ? `${serve.rps.toFixed(0)} req/s, ${serve.rpsPerProxyCore.toFixed(0)} per proxy core-second (p50 ${serve.p50Ms} ms, p99 ${serve.p99Ms} ms; ${serve.generator}, ${serve.connections} connections, load average ${serve.loadAvg})`
      : 'n/a',
    pass: serve ? speed(serve.rps >= 5000 || serve.rpsPerProxyCore >= 5000) : null,
  });
  return out;
}
