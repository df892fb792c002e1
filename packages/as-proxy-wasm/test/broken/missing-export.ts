// A filter that overrides onRequestBody and onTick but exports only the core and the request
// headers callback: the build must fail, naming proxy_on_request_body and proxy_on_tick
// (test/transform.test.ts).
export * from "as-proxy-wasm/assembly/core";
export { proxy_on_request_headers } from "as-proxy-wasm/assembly/exports";
import { RootContext, HttpStream, HttpContext, FilterHeadersStatus, FilterDataStatus, registerRootContext } from "as-proxy-wasm";

class BrokenRoot extends RootContext {
  onTick(): void {}
  createHttpContext(id: u32): HttpContext | null { return new BrokenStream(id, this); }
}

class BrokenStream extends HttpStream<BrokenRoot> {
  onRequestHeaders(_numHeaders: u32, _endOfStream: bool): FilterHeadersStatus { return FilterHeadersStatus.Continue; }
  onRequestBody(_bodySize: u32, _endOfStream: bool): FilterDataStatus { return FilterDataStatus.Continue; }
}

registerRootContext((id: u32): RootContext => new BrokenRoot(id));
