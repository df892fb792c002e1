// Peer no-op filter on @gcoredev/proxy-wasm-sdk-as (for the quick benchmark only).
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import { RootContext, Context, registerRootContext } from "@gcoredev/proxy-wasm-sdk-as/assembly";

class NoopRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new Context(context_id, this);
  }
}
registerRootContext((context_id: u32) => { return new NoopRoot(context_id); }, "");
