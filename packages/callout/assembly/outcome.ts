// What happened to each request's enrichment, and the metrics that count it (README: Metrics).

import { Counter } from "as-proxy-wasm";

/** The outcome of one request's enrichment. */
export enum Outcome { Ok, Error, Timeout, CacheHit, Overflow, TooLarge }

/** Each outcome's name, in Outcome order: the metric label, and the failure marker's value in open mode. */
const OUTCOME_NAMES: StaticArray<string> = ["ok", "error", "timeout", "cache_hit", "overflow", "too_large"];

export function outcomeName(outcome: Outcome): string {
  return unchecked(OUTCOME_NAMES[outcome]);
}

/** Counts the answer values a mapping dropped (too long, or with control characters). */
const VALUE_DROPPED_METRIC = "callout_value_dropped_total";

/** The filter's counters, defined once per VM: bounded, six outcomes and the dropped values. */
export class Metrics {
  private outcomes: StaticArray<Counter>;
  private valueDropped: Counter;

  /** `labels`: one family with an `outcome` tag (Istio's extractable encoding); else one name per outcome. */
  constructor(labels: bool) {
    let outcomes = new StaticArray<Counter>(OUTCOME_NAMES.length);
    for (let i = 0; i < OUTCOME_NAMES.length; i++) {
      let name = unchecked(OUTCOME_NAMES[i]);
      unchecked(outcomes[i] = new Counter(labels ? "outcome=.=" + name + ";.;callout_total" : "callout_total_" + name));
    }
    this.outcomes = outcomes;
    this.valueDropped = new Counter(VALUE_DROPPED_METRIC);
  }

  count(outcome: Outcome): void {
    unchecked(this.outcomes[outcome]).increment(1);
  }

  countDropped(values: u32): void {
    if (values > 0) this.valueDropped.increment(values);
  }
}
