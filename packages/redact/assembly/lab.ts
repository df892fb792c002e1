// Lab 2, student-sized: mask the value after a marker (SECRET=...) in request and response bodies.
//
// Differs from the production filter (assembly/index.ts), on purpose, to stay short:
// - markers only (no JSON fields, no e-mail / card / token detectors, no patterns);
// - the body is handled as text: a body with a marker is written back as UTF-8 (production works
//   on bytes, so a non-UTF-8 body is never altered);
// - no body size limit (production buffers at most maxBodyBytes, then passes or answers 413),
//   no skip of compressed or binary content types, and no metrics.
export * from "as-proxy-wasm/assembly/exports";
import {
  Buffer, FilterDataStatus, FilterHeadersStatus, HeaderMap, HttpContext, HttpStream, RootContext, registerRootContext,
} from "as-proxy-wasm";

class LabRoot extends RootContext {
  markers: string[] = [];
  mask: string = "[REDACTED]";

  onConfigure(configSize: u32): bool {
    let cfg = this.configJson();
    if (cfg === null) return false;
    let rules = cfg.arr("rules");
    for (let i = 0; i < rules.length; i++) this.markers.push(rules[i].str("marker"));
    this.mask = cfg.optStr("mask", "[REDACTED]");
    return this.configOk(cfg);
  }

  createHttpContext(id: u32): HttpContext | null { return new LabRedact(id, this); }
}

// Fix: the course replaced "SECRET=" by "SECRET=[REDACTED]", which leaves the secret right after
// the mask. Here the value itself, up to a quote, separator or space, becomes the mask.
function redact(text: string, root: LabRoot): string | null {
  let changed = false;
  for (let m = 0; m < root.markers.length; m++) {
    let marker = root.markers[m];
    for (let at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + marker.length + root.mask.length)) {
      let end = at + marker.length;
      while (end < text.length && !"\"'&,;<}] \t\r\n".includes(text.charAt(end))) end++;
      text = text.substring(0, at + marker.length) + root.mask + text.substring(end);
      changed = true;
    }
  }
  return changed ? text : null;
}

class LabRedact extends HttpStream<LabRoot> { // this.root: the LabRoot, typed
  headers(headers: HeaderMap, endOfStream: bool): FilterHeadersStatus {
    // Fix: masking changes the body length and Envoy does not correct content-length; a stale
    // one breaks the message in a real Envoy, so it goes (the body is then sent chunked).
    if (!endOfStream) headers.remove("content-length");
    return FilterHeadersStatus.Continue;
  }

  body(buffer: Buffer, endOfStream: bool): FilterDataStatus {
    // Fix: the course looked only at the last chunk, so a secret split across chunks passed.
    // Envoy keeps the chunks while we answer StopIterationAndBuffer; at the end we see them all.
    if (!endOfStream) return FilterDataStatus.StopIterationAndBuffer;
    let text = buffer.getString();
    if (text === null) return FilterDataStatus.Continue;
    let masked = redact(text, this.root);
    if (masked !== null) buffer.replace(masked);
    return FilterDataStatus.Continue;
  }

  onRequestHeaders(n: u32, endOfStream: bool): FilterHeadersStatus { return this.headers(this.requestHeaders, endOfStream); }
  onRequestBody(size: u32, endOfStream: bool): FilterDataStatus { return this.body(this.requestBody, endOfStream); }
  onResponseHeaders(n: u32, endOfStream: bool): FilterHeadersStatus { return this.headers(this.responseHeaders, endOfStream); }
  onResponseBody(size: u32, endOfStream: bool): FilterDataStatus { return this.body(this.responseBody, endOfStream); }
}

registerRootContext((id: u32): RootContext => new LabRoot(id));
