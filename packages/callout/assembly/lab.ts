// Labs 3 and 4, student-sized: ask a metadata service before the request goes on, and mark it.
//
// Differs from the production filter (assembly/index.ts), on purpose, to stay short:
// - one mapping, "bodyNonEmpty" (no answer headers or JSON fields copied into headers);
// - no cache, no concurrency limit, no answer size limit, no path template, no metrics;
// - few checks on the configuration (production checks every name, value and range).
// LAB ONLY: "trapOn" names a request header that makes this filter trap (Lab 4 shows what Envoy
// does then). The production filter has no such switch: it never traps.
export * from "as-proxy-wasm/assembly/exports";
import {
  FilterDataStatus, FilterHeadersStatus, HttpCallResponse, HttpContext, HttpStream, Pairs, RootContext, Status, registerRootContext, log,
} from "as-proxy-wasm";

const SOURCES: string[] = ["bodyNonEmpty"]; // production also has "header" and "json"
const FAILURE_MODES: string[] = ["closed", "open"];
const OPEN = 1; // the index of "open"

class LabRoot extends RootContext {
  cluster: string = ""; call: Pairs = new Pairs(); timeoutMs: u32 = 1000; header: string = ""; value: string = "";
  failOpen: bool = false; failHeader: string = "x-callout-error"; trapOn: string = "";

  onConfigure(configSize: u32): bool {
    let cfg = this.configJson();
    if (cfg === null) return false;
    this.cluster = cfg.str("cluster");
    this.call = new Pairs().add(":method", "GET").add(":path", cfg.optStr("path", "/")).add(":authority", cfg.optStr("authority", this.cluster));
    this.timeoutMs = <u32>cfg.optInt("timeoutMs", 1000, 1, 60000);
    let m = cfg.arr("mappings");
    if (m.length != 1) cfg.fail("this lab version takes one bodyNonEmpty mapping");
    else { m[0].choice("source", SOURCES); this.header = m[0].str("header"); this.value = m[0].str("value"); }
    let f = cfg.optObj("onFailure");
    if (f !== null) { this.failOpen = f.optChoice("mode", FAILURE_MODES, 0) == OPEN; this.failHeader = f.optStr("header", this.failHeader); }
    this.trapOn = cfg.optStr("trapOn", "");
    return this.configOk(cfg);
  }

  createHttpContext(id: u32): HttpContext | null { return new LabCallout(id, this); }
}

class LabCallout extends HttpStream<LabRoot> { // this.root: the LabRoot, typed
  waiting: bool = false;

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let root = this.root;
    if (root.trapOn != "" && this.requestHeaders.has(root.trapOn)) unreachable(); // LAB ONLY: a trap on demand
    // Fix: a client must not send its own x-meta (or failure marker) through.
    this.requestHeaders.remove(root.header);
    this.requestHeaders.remove(root.failHeader);
    if (this.dispatchHttpCall(root.cluster, root.call, "", null, root.timeoutMs) != Status.Ok) return this.fail("error");
    this.waiting = true; // resumed in onHttpCallResponse
    return FilterHeadersStatus.StopAllIterationAndWatermark;
  }

  onRequestBody(size: u32, endOfStream: bool): FilterDataStatus { // the body waits with the headers
    return this.waiting ? FilterDataStatus.StopIterationAndBuffer : FilterDataStatus.Continue; }

  // Fix: the course put this handler on the stream trait, while its SDK version expects it on the
  // Context trait (with a Duration timeout). Here the SDK delivers the answer to the stream that
  // made the call, so header edits and continueRequest() act on that request.
  onHttpCallResponse(r: HttpCallResponse): void {
    this.waiting = false;
    // Fix: the course set x-meta for any answer with a body, "503 no healthy upstream" included.
    if (r.failed || r.status < 200 || r.status > 299) {
      log.warn("lab callout: the metadata service answered " + r.status.toString());
      if (this.fail(r.status == 504 ? "timeout" : "error") != FilterHeadersStatus.Continue) return;
    } else if (r.bodySize > 0) this.requestHeaders.set(this.root.header, this.root.value);
    this.continueRequest();
  }

  fail(why: string): FilterHeadersStatus { // open: mark the request and go on; closed: answer 503
    let root = this.root;
    if (root.failOpen) { this.requestHeaders.set(root.failHeader, why); return FilterHeadersStatus.Continue; }
    this.sendLocalResponse(503, "callout_failed", "metadata service unavailable\n");
    return FilterHeadersStatus.StopAllIterationAndWatermark;
  }
}

registerRootContext((id: u32): RootContext => new LabRoot(id));
