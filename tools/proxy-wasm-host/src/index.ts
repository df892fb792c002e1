export { loadPlugin, Plugin, PluginLoadError, type PluginOptions, type LogEntry, type PendingHttpCall, type HttpCallAnswer } from './plugin';
export { HttpStream, type StreamOptions, type LocalReply } from './stream';
export type { ExchangeRequest, ExchangeResult, UpstreamResponse, CallResponse, CallAnswer } from './exchange';
export type { FilterStatus, LogLevelName } from './abi';
export { HeaderMap, valueToString, type HeaderList, type HeaderValue } from './headers';
export type { PropertyValue } from './properties';
export { prometheusText, extractTags, DEFAULT_BUCKETS, type MetricValue, type HistogramValue, type StatsTag } from './metrics';
export { EnvoyLikeProxy, type ServeOptions, type Endpoint } from './serve';
export { startEcho, startMetadataService, type RunningServer } from './servers';
