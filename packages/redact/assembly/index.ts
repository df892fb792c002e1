// redact: masks secrets in request and response bodies (course Lab 2, without the course's bugs:
// every chunk is covered, and the value is replaced rather than followed by the mask).
//
// Design: the body is buffered (StopIterationAndBuffer) up to maxBodyBytes and scanned once at
// end of stream (or at the trailers). Detectors need look-behind and look-ahead (an email's local
// part, a card number's Luhn sum, a JWT's three segments) and values have no bounded length, so
// a streaming carry-over window would have to be as large as the largest value anyway; buffering
// keeps one simple pass correct whatever the chunking. Envoy forwards headers before the body, so
// content-length is removed from scanned bodies (the upstream/client sees chunked framing).
export * from "as-proxy-wasm/assembly/exports";
import {
  Buffer, Counter, FilterDataStatus, FilterHeadersStatus, FilterTrailersStatus, HeaderMap, HttpContext,
  HttpStream, RootContext, formatInt, log, registerRootContext, requestBody, responseBody,
} from "as-proxy-wasm";
import { Directions, RedactConfig, readConfig } from "./config";
import { bodyModeOf, isIdentity, parseLength } from "./media";
import { BodyMode } from "./rules";
import { Scanner } from "./scanner";

/** Why a body was not scanned (the `reason` label of redact_skipped_total). */
enum SkipReason {
  ContentType = 0,
  Encoded = 1,
  TooLarge = 2,
}
const SKIP_REASONS = ["content_type", "encoded", "too_large"];

/** Where one direction of a stream is. */
enum BodyState {
  /** not scanning this body (nothing to do, or skipped) */
  Idle = 0,
  Buffering = 1,
  Done = 2,
}

/** One direction (request or response): its body buffer and its counters (bounded labels). */
class Direction {
  redactions: Counter[] = [];
  skipped: Counter[] = [];
  rejected: Counter;

  constructor(public isRequest: bool, public body: Buffer, ruleCount: i32) {
    let d = "direction=.=" + (isRequest ? "request" : "response") + ";.;";
    this.rejected = new Counter(d + "redact_rejected_total");
    for (let i = 0; i < ruleCount; i++) this.redactions.push(new Counter(d + "rule=.=" + formatInt(i) + ";.;redact_redactions_total"));
    for (let i = 0; i < SKIP_REASONS.length; i++) this.skipped.push(new Counter(d + "reason=.=" + SKIP_REASONS[i] + ";.;redact_skipped_total"));
  }

  skip(reason: SkipReason): void {
    unchecked(this.skipped[reason]).increment(1);
  }
}

/** One direction of one stream. */
class BodyScan {
  state: BodyState = BodyState.Idle;
  mode: BodyMode = BodyMode.Skip;
  constructor(public direction: Direction) {}
}

class RedactRoot extends RootContext {
  config: RedactConfig = new RedactConfig();
  scanner: Scanner = new Scanner(this.config.rules);
  request: Direction | null = null;
  response: Direction | null = null;

  onConfigure(configSize: u32): bool {
    let cfg = this.configJson(); // empty or blank (Istio: no pluginConfig) reads as {}: missing "rules"
    if (cfg === null) return false;
    let config = readConfig(cfg);
    if (!this.configOk(cfg) || config === null) return false;
    let count = config.rules.ruleCount;
    this.config = config;
    this.scanner = new Scanner(config.rules);
    this.request = config.directions & Directions.Request ? new Direction(true, requestBody, count) : null;
    this.response = config.directions & Directions.Response ? new Direction(false, responseBody, count) : null;
    log.info("redact: " + formatInt(count) + " rule(s)");
    return true;
  }

  createHttpContext(contextId: u32): HttpContext | null {
    return new RedactFilter(contextId, this);
  }
}

class RedactFilter extends HttpStream<RedactRoot> {
  request: BodyScan | null;
  response: BodyScan | null;
  /** This filter answered with a local reply: its own reply passes untouched. */
  replied: bool = false;

  constructor(id: u32, root: RedactRoot) {
    super(id, root);
    let req = root.request, res = root.response;
    this.request = req !== null ? new BodyScan(req) : null;
    this.response = res !== null ? new BodyScan(res) : null;
  }

  /** Headers phase of one direction: decides whether its body is buffered and scanned. */
  private start(scan: BodyScan, headers: HeaderMap): void {
    let config = this.root.config;
    let direction = scan.direction;
    if (!isIdentity(headers.getBytes("content-encoding"))) {
      direction.skip(SkipReason.Encoded);
      return;
    }
    let mode = bodyModeOf(headers.getBytes("content-type"), config.contentTypes, config.scanMissingType, config.scanOtherTypes);
    if (mode == BodyMode.Skip) {
      direction.skip(SkipReason.ContentType);
      return;
    }
    scan.mode = mode;
    let length = headers.getBytes("content-length");
    if (length !== null) {
      let n = parseLength(length);
      if (n > config.maxBodyBytes) {
        if (this.tooLarge(direction, n, true)) scan.state = BodyState.Done;
        return;
      }
    }
    headers.remove("content-length");
    scan.state = BodyState.Buffering;
  }

  /**
   * A body larger than maxBodyBytes. pass: counted, logged, let through unredacted (returns false).
   * reject: 413 for requests; for responses 502 while the headers can still be replaced, else the
   * stream is reset (returns true: the caller stops).
   */
  private tooLarge(direction: Direction, size: u32, atHeaders: bool): bool {
    let config = this.root.config;
    let request = direction.isRequest;
    let what = (request ? "redact: request" : "redact: response") + " body of " + formatInt(size) +
      " bytes exceeds maxBodyBytes " + formatInt(config.maxBodyBytes) + "; ";
    if (!config.rejectOversize) {
      direction.skip(SkipReason.TooLarge);
      log.warn(what + "passed through unredacted");
      return false;
    }
    direction.rejected.increment(1);
    this.replied = true;
    if (request) {
      log.warn(what + "rejected with 413");
      this.sendLocalResponse(413, "redact_body_too_large", "Payload Too Large");
    } else if (atHeaders) {
      log.warn(what + "replaced with 502");
      this.sendLocalResponse(502, "redact_body_too_large", "Bad Gateway");
    } else {
      log.warn(what + "stream reset");
      this.closeResponse();
    }
    return true;
  }

  /** Scans the complete buffered body and replaces it when something was masked. */
  private finish(scan: BodyScan): void {
    scan.state = BodyState.Done;
    let direction = scan.direction;
    let body = direction.body.get(0, u32.MAX_VALUE);
    if (body === null || body.byteLength == 0) return;
    let scanner = this.root.scanner;
    if (scanner.scanBody(body, scan.mode) == 0) return;
    direction.body.replaceBytes(scanner.output.buffer, scanner.output.length);
    let hits = scanner.hits;
    for (let i = 0; i < hits.length; i++) {
      let h = hits[i];
      if (h > 0) direction.redactions[i].increment(<i64>h);
    }
  }

  private onBody(scan: BodyScan | null, size: u32, endOfStream: bool): FilterDataStatus {
    if (scan === null || scan.state != BodyState.Buffering) return FilterDataStatus.Continue;
    if (size > this.root.config.maxBodyBytes) {
      scan.state = BodyState.Done;
      return this.tooLarge(scan.direction, size, false) ? FilterDataStatus.StopIterationNoBuffer : FilterDataStatus.Continue;
    }
    if (!endOfStream) return FilterDataStatus.StopIterationAndBuffer;
    this.finish(scan);
    return FilterDataStatus.Continue;
  }

  private onTrailers(scan: BodyScan | null): FilterTrailersStatus {
    if (scan !== null && scan.state == BodyState.Buffering) this.finish(scan);
    return FilterTrailersStatus.Continue;
  }

  onRequestHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let headers = this.requestHeaders;
    if (this.response !== null && this.root.config.askIdentity) headers.set("accept-encoding", "identity");
    let scan = this.request;
    if (scan === null || endOfStream) return FilterHeadersStatus.Continue;
    this.start(scan, headers);
    return this.replied ? FilterHeadersStatus.StopIteration : FilterHeadersStatus.Continue;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return this.onBody(this.request, bodySize, endOfStream);
  }

  onRequestTrailers(numTrailers: u32): FilterTrailersStatus {
    return this.onTrailers(this.request);
  }

  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    let scan = this.response;
    if (scan === null || endOfStream || this.replied) return FilterHeadersStatus.Continue;
    this.start(scan, this.responseHeaders);
    return this.replied ? FilterHeadersStatus.StopIteration : FilterHeadersStatus.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    return this.onBody(this.response, bodySize, endOfStream);
  }

  onResponseTrailers(numTrailers: u32): FilterTrailersStatus {
    return this.onTrailers(this.response);
  }
}

registerRootContext((id: u32): RootContext => new RedactRoot(id));
