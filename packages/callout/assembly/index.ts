// callout: enrich each request from a metadata service (course Labs 3 and 4).
//
// The lab in two callbacks:
//   on_request_headers     call the metadata service (dispatch_http_call) and pause the request;
//   on_http_call_response  set `x-meta: 1` when the answer has a body, then resume the request.
// What the lab left out is here too: the timeout is mandatory (Envoy then always delivers an
// answer: a 504 on timeout, a reset as a failed call), a failure mode answers or resumes every
// paused request, a cache, a limit on callouts in flight, and mappings from the answer's headers
// and JSON. The pieces: config.ts (the configuration), mapping.ts (what each mapping reads from
// the answer), template.ts (the callout's path), jsonpath.ts, cache.ts, outcome.ts (metrics).

import {
  RootContext, HttpContext, HttpStream, HttpCallResponse, FilterHeadersStatus, FilterDataStatus, FilterTrailersStatus,
  Bytes, Status, JsonValue, log, registerRootContext, parseJson, getCallStatus, requestHeaders, statusName,
  httpCallResponseBody, formatInt,
} from "as-proxy-wasm";
import { Config, FailureMode, MetricStyle, parseConfig } from "./config";
import { Answer, Values } from "./mapping";
import { Cache } from "./cache";
import { Outcome, Metrics, outcomeName } from "./outcome";
// Only the callbacks this filter uses (Envoy: a missing callback = Continue).
export * from "as-proxy-wasm/assembly/core";
export {
  proxy_on_request_headers, proxy_on_request_body, proxy_on_request_trailers, proxy_on_http_call_response,
} from "as-proxy-wasm/assembly/exports";

/** One per worker VM: the configuration, the metrics, the cache and the callouts in flight. */
class CalloutRoot extends RootContext {
  config: Config = new Config();
  metrics: Metrics | null = null;
  cache: Cache | null = null;
  /** Callouts whose stream is still waiting for the answer. */
  inflight: i32 = 0;

  onConfigure(size: u32): bool {
    // An empty or blank configuration (Istio: a WasmPlugin without pluginConfig) reads as {}: it is
    // refused like {}, naming the first missing field (`cluster`).
    let json = this.configJson();
    if (json === null) return false;
    // parseConfig records its first error in `json`; configOk logs it, or an unknown key
    let config = parseConfig(json);
    if (!this.configOk(json) || config === null) return false;
    this.config = config;
    // The metrics are defined once per VM, in the style of the first configuration.
    if (this.metrics === null) this.metrics = new Metrics(config.metricStyle == MetricStyle.Labels);
    let c = config.cache;
    this.cache = c === null ? null : new Cache(c);
    return true;
  }

  createHttpContext(id: u32): HttpContext | null {
    return new CalloutStream(id, this);
  }

  count(outcome: Outcome): void {
    let metrics = this.metrics;
    if (metrics !== null) metrics.count(outcome);
  }

  countDropped(values: u32): void {
    let metrics = this.metrics;
    if (metrics !== null) metrics.countDropped(values);
  }
}

class CalloutStream extends HttpStream<CalloutRoot> {
  /** The request is paused until the callout's answer. */
  waiting: bool = false;
  /** The request's cache key (null: its answer is not cached). */
  cacheKey: string | null = null;

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let root = this.root;
    let config = root.config;
    // A client must not forge the enrichment or the failure marker.
    for (let i = 0; i < config.mappings.length; i++) requestHeaders.remove<Bytes>(config.mappings[i].header);
    requestHeaders.remove<Bytes>(config.onFailure.header);

    let cached = this.cachedValues();
    if (cached !== null) {
      setHeaders(config, cached);
      root.count(Outcome.CacheHit);
      return FilterHeadersStatus.Continue;
    }
    if (root.inflight >= config.maxConcurrent) {
      log.warn("callout: " + formatInt(root.inflight) + " callouts in flight (maxConcurrent " + formatInt(config.maxConcurrent) + "): failure mode");
      return this.fail(Outcome.Overflow, false);
    }
    let s = this.dispatchHttpCall<string>(config.cluster, config.calloutHeaders(), "", null, config.timeoutMs);
    if (s != Status.Ok) {
      log.warn("callout: dispatch to cluster \"" + config.cluster + "\" failed: " + statusName(s) + " (unknown cluster?)");
      return this.fail(Outcome.Error, false);
    }
    this.waiting = true;
    root.inflight++;
    // Envoy keeps the headers writable and buffers the body until continueRequest().
    return FilterHeadersStatus.StopAllIterationAndWatermark;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return this.waiting ? FilterDataStatus.StopIterationAndBuffer : FilterDataStatus.Continue;
  }

  onRequestTrailers(numTrailers: u32): FilterTrailersStatus {
    return this.waiting ? FilterTrailersStatus.StopIteration : FilterTrailersStatus.Continue;
  }

  onHttpCallResponse(resp: HttpCallResponse): void {
    if (!this.waiting) return;
    this.stopWaiting();
    let root = this.root;
    let config = root.config;
    let failure = answerFailure(config, resp);
    if (failure != Outcome.Ok) {
      this.fail(failure, true);
      return;
    }
    let json: JsonValue | null = null;
    if (resp.bodySize > 0 && config.expectJson) {
      json = answerJson();
      if (json === null) {
        this.fail(Outcome.Error, true);
        return;
      }
    }
    let answer = new Answer(resp.bodySize, resp.headers, json, config.maxValueBytes);
    let values = answer.valuesOf(config.mappings);
    root.countDropped(answer.dropped);
    setHeaders(config, values);
    let cache = root.cache;
    let key = this.cacheKey;
    if (cache !== null && key !== null) cache.store(key, values);
    root.count(Outcome.Ok);
    this.continueRequest();
  }

  onDelete(): void {
    // The stream ended while waiting (client gone): the SDK drops the late answer.
    if (this.waiting) this.stopWaiting();
  }

  /** The values cached for this request's key; on a miss, remembers the key for the answer. */
  private cachedValues(): Values | null {
    let cache = this.root.cache;
    if (cache === null) return null;
    let key = requestHeaders.get<Bytes>(cache.config.keyHeader);
    if (key === null || key.length > cache.config.maxKeyLength) return null;
    let values = cache.lookup(key);
    if (values === null) this.cacheKey = key;
    return values;
  }

  private stopWaiting(): void {
    this.waiting = false;
    this.root.inflight--;
  }

  /** Applies the failure mode. `paused`: the request waits for continueRequest (the callout answered). */
  private fail(outcome: Outcome, paused: bool): FilterHeadersStatus {
    this.root.count(outcome);
    let onFailure = this.root.config.onFailure;
    if (onFailure.mode == FailureMode.Open) {
      requestHeaders.set<Bytes, string>(onFailure.header, outcomeName(outcome));
      if (paused) this.continueRequest();
      return FilterHeadersStatus.Continue;
    }
    this.sendLocalResponse<string>(onFailure.status, "callout_failed", onFailure.body);
    return FilterHeadersStatus.StopAllIterationAndWatermark;
  }
}

/** Outcome.Ok for a 2xx answer the filter may read; else the failure's outcome, logged. */
function answerFailure(config: Config, resp: HttpCallResponse): Outcome {
  if (resp.failed) {
    let st = getCallStatus();
    let msg = st === null ? "unknown" : st.message;
    log.warn("callout: call to \"" + config.cluster + "\" failed: " + msg);
    return msg.includes("timeout") ? Outcome.Timeout : Outcome.Error;
  }
  let status = resp.status;
  if (status < 200 || status > 299) {
    // 504: how Envoy reports its own timeout of the callout
    log.warn("callout: \"" + config.cluster + "\" answered " + formatInt(status));
    return status == 504 ? Outcome.Timeout : Outcome.Error;
  }
  let size = resp.bodySize;
  if (size > <u32>config.maxAnswerBytes) {
    // never read: parsing a large answer would hold the worker (timeoutMs does not cover it)
    log.warn("callout: \"" + config.cluster + "\" answered " + formatInt(size) + " bytes, more than maxAnswerBytes " + formatInt(config.maxAnswerBytes));
    return Outcome.TooLarge;
  }
  return Outcome.Ok;
}

/** The answer body's JSON, or null (not JSON: logged). */
function answerJson(): JsonValue | null {
  let body = httpCallResponseBody.get();
  if (body === null) return null;
  let json = parseJson(Uint8Array.wrap(body), "callout answer");
  if (json.hasError()) {
    log.warn("callout: " + json.error());
    return null;
  }
  return json;
}

/** Sets each mapping's header to its value (a null value leaves the header absent). */
function setHeaders(config: Config, values: Values): void {
  for (let i = 0; i < config.mappings.length; i++) {
    let v = values[i];
    if (v !== null) requestHeaders.set<Bytes, ArrayBuffer>(config.mappings[i].header, v);
  }
}

// The default registration serves any root_id (Envoy `root_id`, Istio `pluginName`).
registerRootContext((id: u32): RootContext => new CalloutRoot(id));
