import { MetricType, Status } from "./enums";
import { proxy_define_metric, proxy_increment_metric, proxy_record_metric, proxy_get_metric } from "./imports";
import { RET_C } from "./host-memory";
import { setLastStatus } from "./status";
import { argPtr, argLen } from "./args";

/**
 * Base of Counter, Gauge and Histogram. Define metrics once (at configure or
 * VM start): Envoy keeps every stat forever, under `wasmcustom.<name>`, and
 * Prometheus shows `<name>` (no `envoy_` prefix).
 */
export class Metric {
  /** Host id (0 when the definition failed; see `status`). */
  id: u32 = 0;
  /** Status of proxy_define_metric. */
  status: Status;

  constructor(public readonly type: MetricType, public readonly name: string) {
    let p = argPtr<string>(name, 0);
    let s = <Status>proxy_define_metric(type, p, argLen, RET_C);
    this.status = s;
    if (s == Status.Ok) this.id = load<u32>(RET_C);
  }

  /** Current value (counters and gauges), or 0 with lastStatus() set on error. */
  get(): u64 {
    let s = <Status>proxy_get_metric(this.id, RET_C);
    setLastStatus(s);
    return s == Status.Ok ? load<u64>(RET_C) : 0;
  }
}

/** Monotonic counter. */
export class Counter extends Metric {
  constructor(name: string) { super(MetricType.Counter, name); }
  /** Adds `delta` (> 0; Envoy answers BadArgument for 0 or negative). */
  increment(delta: i64 = 1): Status {
    return <Status>proxy_increment_metric(this.id, delta);
  }
}

/** Gauge: set, add or subtract. */
export class Gauge extends Metric {
  constructor(name: string) { super(MetricType.Gauge, name); }
  set(value: u64): Status { return <Status>proxy_record_metric(this.id, value); }
  /** Adds `delta` (may be negative). */
  add(delta: i64): Status { return <Status>proxy_increment_metric(this.id, delta); }
}

/** Histogram (buckets come from Envoy's stats_config.histogram_bucket_settings). */
export class Histogram extends Metric {
  constructor(name: string) { super(MetricType.Histogram, name); }
  record(value: u64): Status { return <Status>proxy_record_metric(this.id, value); }
}

/** Replaces characters that would break tag extraction (`=`, `;`, `.`, space...) with '_'. */
export function sanitizeLabelValue(v: string): string {
  let out = v;
  for (let i = 0, n = v.length; i < n; i++) {
    let c = v.charCodeAt(i);
    let ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D;
    if (!ok) {
      let b = new Array<string>();
      for (let j = 0; j < n; j++) {
        let d = v.charCodeAt(j);
        let ok2 = (d >= 0x30 && d <= 0x39) || (d >= 0x41 && d <= 0x5A) || (d >= 0x61 && d <= 0x7A) || d == 0x5F || d == 0x2D;
        b.push(ok2 ? String.fromCharCode(d) : "_");
      }
      out = b.join("");
      break;
    }
  }
  return out;
}

/**
 * Composes a metric name with labels in Istio's extractable encoding:
 *   labeledName("requests_total", ["code", "method"], ["200", "GET"])
 *   == "code=.=200;.;method=.=GET;.;requests_total"
 * Each label needs one bootstrap `stats_config.stats_tags` entry:
 *   { tag_name: "code", regex: "(code=\\.=(.*?);\\.;)" }
 * Envoy removes each matched `code=.=200;.;`, so Prometheus shows
 *   requests_total{code="200",method="GET"}
 * Values are sanitised ([A-Za-z0-9_-], others -> '_'). Keep label values
 * bounded (see `BoundedLabels`): Envoy never forgets a stat.
 */
export function labeledName(name: string, keys: string[], values: string[]): string {
  let s = "";
  for (let i = 0, n = min(keys.length, values.length); i < n; i++) {
    s += unchecked(keys[i]) + "=.=" + sanitizeLabelValue(unchecked(values[i])) + ";.;";
  }
  return s + name;
}

/**
 * A counter family with one label and a hard bound on distinct values:
 * values beyond `maxValues` (or not in `allowed`, when given) are counted
 * under `overflowValue` ("other"). Metric ids are cached, so steady-state
 * increments cost one host call and no allocation.
 */
export class CounterFamily {
  private values: string[] = [];
  private counters: Counter[] = [];
  private overflow: Counter | null = null;

  constructor(
    public readonly name: string,
    public readonly label: string,
    public readonly maxValues: i32 = 16,
    public readonly allowed: string[] | null = null,
    public readonly overflowValue: string = "other",
  ) {}

  /** The counter for `value` (created on first use, within the bound). */
  with(value: string): Counter {
    for (let i = 0, n = this.values.length; i < n; i++) {
      if (unchecked(this.values[i]) == value) return unchecked(this.counters[i]);
    }
    let allowed = this.allowed;
    if (this.values.length >= this.maxValues || (allowed !== null && !allowed.includes(value))) {
      let o = this.overflow;
      if (o === null) {
        o = new Counter(labeledName(this.name, [this.label], [this.overflowValue]));
        this.overflow = o;
      }
      return o;
    }
    let c = new Counter(labeledName(this.name, [this.label], [value]));
    this.values.push(value);
    this.counters.push(c);
    return c;
  }

  increment(value: string, delta: i64 = 1): Status {
    return this.with(value).increment(delta);
  }
}
