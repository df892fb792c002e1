// The gRPC callbacks of the Proxy-Wasm ABI 0.2.1. A filter that makes gRPC calls or opens gRPC streams
// (Context.dispatchGrpcCall / openGrpcStream) exports them next to its other callbacks:
//
//   export * from "as-proxy-wasm/assembly/exports";
//   export * from "as-proxy-wasm/assembly/grpc-exports";
//
// They live apart from ./exports so that filters without gRPC do not carry them. Without them Envoy
// finds no gRPC callback and the calls' outcomes are never delivered.
import { onGrpcInitialMetadata, onGrpcReceive, onGrpcTrailingMetadata, onGrpcClose } from "./grpc";
import { enterCallback, leaveCallback, leaveCallbackAndCollect } from "./gc";
import { invalidateLogLevel } from "./log";

export function proxy_on_grpc_receive_initial_metadata(rootId: u32, token: u32, numEntries: u32): void {
  enterCallback();
  invalidateLogLevel();
  onGrpcInitialMetadata(rootId, token, numEntries);
  leaveCallback();
}

export function proxy_on_grpc_receive(rootId: u32, token: u32, size: u32): void {
  enterCallback();
  invalidateLogLevel();
  onGrpcReceive(rootId, token, size);
  leaveCallbackAndCollect();
}

export function proxy_on_grpc_receive_trailing_metadata(rootId: u32, token: u32, numEntries: u32): void {
  enterCallback();
  invalidateLogLevel();
  onGrpcTrailingMetadata(rootId, token, numEntries);
  leaveCallback();
}

export function proxy_on_grpc_close(rootId: u32, token: u32, status: u32): void {
  enterCallback();
  invalidateLogLevel();
  onGrpcClose(rootId, token, status);
  leaveCallbackAndCollect();
}
