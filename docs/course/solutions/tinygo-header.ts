// The appendix's example (docs/course/appendix-tinygo.md): the course's TinyGo filter, the same
// four steps in AssemblyScript. Tested by docs/course/test/solutions.test.ts.
export * from "as-proxy-wasm/assembly/exports";
import { FilterHeadersStatus, HttpContext, RootContext, registerRootContext } from "as-proxy-wasm";

class Training extends HttpContext {
  onResponseHeaders(numHeaders: u32, endOfStream: bool): FilterHeadersStatus {
    this.responseHeaders.add("x-training", "envoy-wasm");
    return FilterHeadersStatus.Continue;
  }
}

class TrainingRoot extends RootContext {
  createHttpContext(id: u32): HttpContext | null { return new Training(id, this); }
}

registerRootContext((id: u32): RootContext => new TrainingRoot(id));
