// as-proxy-wasm: the public API. Filters also add ONE line to re-export the ABI:
//   export * from "as-proxy-wasm/assembly/exports";

export {
  Status, LogLevel, FilterHeadersStatus, FilterDataStatus, FilterTrailersStatus, BufferType, MapType,
  StreamType, MetricType, GrpcStatus, TrafficDirection,
} from "./enums";
export { setGcPolicy, collectNow } from "./gc";
export { lastStatus, statusName } from "./status";
export { asciiLower, decodeUtf8, bufferToString, utf8Bytes } from "./utf8";
export { Bytes } from "./bytes";
export { formatInt } from "./format";
export { log, logLevel, logAt, logBytes } from "./log";
export {
  HeaderMap, HeaderPair, Pairs, deserializePairs, requestHeaders, requestTrailers, responseHeaders,
  responseTrailers, httpCallResponseHeaders, httpCallResponseTrailers, bytesEqual, bytesStartWith,
} from "./headers";
export { HeaderEdits } from "./edits";
export { percentEncode, percentEncodeSegment } from "./url";
export { isToken, indexOfControl, hasControlChars, isHeaderName, isHeaderValue } from "./checks";
export {
  Buffer, ChunkScanner, indexOfBytes, requestBody, responseBody, httpCallResponseBody, pluginConfiguration,
  vmConfiguration, grpcReceiveBuffer, callData,
} from "./body";
export {
  Context, RootContext, HttpContext, HttpStream, TcpContext, HttpCallResponse, HttpCallCallback, CallStatus, getCallStatus,
  lastHttpCallToken, pendingHttpCalls,
} from "./context";
export { registerRootContext, tcpConnectionCount } from "./dispatch";
export { FilterStatus, PeerType, downstreamData, upstreamData } from "./tcp";
export {
  GrpcCall, GrpcCallCallback, GrpcResponse, GrpcStream, GrpcStreamHandler, grpcInitialMetadata, grpcTrailingMetadata,
  grpcMessage, pendingGrpcCalls, openGrpcStreams, encodeGrpcService,
} from "./grpc";
export { Metric, Counter, Gauge, Histogram, CounterFamily, labeledName, sanitizeLabelValue } from "./metrics";
export {
  getProperty, getPropertyString, getPropertyInt, getPropertyBool, getPropertyFloat, setProperty, properties, trafficDirection,
} from "./properties";
export { sharedData, sharedQueue, SharedValue } from "./shared";
export { nowNanos, monotonicNanos, randomBytes, randomU64, envVars, getEnv, EnvVar } from "./env";
export { JsonValue, JsonKind, jsonKindName, parseJson, parseJsonString } from "./json";
export { abortHandler, traceHandler, seedHandler } from "./runtime";
