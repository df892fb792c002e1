// Peer header filter on @gcoredev/proxy-wasm-sdk-as: sets x-training: envoy-wasm both ways.
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
} from "@gcoredev/proxy-wasm-sdk-as/assembly";

class HeaderRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new HeaderCtx(context_id, this);
  }
}
class HeaderCtx extends Context {
  constructor(context_id: u32, root: HeaderRoot) { super(context_id, root); }
  onRequestHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.request.replace("x-training", "envoy-wasm");
    return FilterHeadersStatusValues.Continue;
  }
  onResponseHeaders(a: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.replace("x-training", "envoy-wasm");
    return FilterHeadersStatusValues.Continue;
  }
}
registerRootContext((context_id: u32) => { return new HeaderRoot(context_id); }, "");
