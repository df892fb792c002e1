// What a plugin is loaded with, and the records the test API hands back.
import type { LogLevelName } from './abi';
import type { HeaderList } from './headers';
import type { StatsTag } from './metrics';
import type { PropertyValue } from './properties';

export interface PluginOptions {
  config?: string | Uint8Array | object;
  vmConfig?: string | Uint8Array;
  pluginName?: string;
  rootId?: string;
  vmId?: string;
  env?: Record<string, string>;
  properties?: Record<string, PropertyValue>;
  /** FAIL_CLOSED (default), FAIL_OPEN, or FAIL_RELOAD (Envoy >= 1.33): after a VM failure, new streams get a fresh VM
   *  (re-instantiated and configured) once the reload backoff elapsed; meanwhile they fail closed. */
  failurePolicy?: 'FAIL_CLOSED' | 'FAIL_OPEN' | 'FAIL_RELOAD';
  /** FAIL_RELOAD backoff: base interval (default 1000 ms, Envoy ReloadConfig default) doubling per reload up to
   *  reloadMaxBackoffMs (default 10x base, Envoy BackoffStrategy default); no jitter. */
  reloadBackoffMs?: number;
  reloadMaxBackoffMs?: number;
  /** Host clock in ms for the reload backoff (default Date.now); inject a fake one in tests. */
  clockMs?: () => number;
  clusters?: string[];
  bufferLimitBytes?: number;
  logLevel?: LogLevelName;
  memoryLimitBytes?: number;
  allowOnHeadersStopIteration?: boolean;
  statsTags?: StatsTag[];
  histogramBuckets?: number[];
  now?: () => bigint;
  /** Also print each log line to stderr, Envoy style ("wasm log <prefix>: msg"). */
  printLogs?: boolean;
  /** Receives each log line formatted like Envoy's (`[info] wasm log <name> <root_id> <vm_id>: msg` for streams,
   *  `[info] wasm log <root_id> <vm_id>: msg` for the root context, `[level] msg` for host messages). */
  logSink?: (line: string, entry: LogEntry) => void;
}

export interface LogEntry { level: LogLevelName; message: string }
export interface PendingHttpCall { token: number; cluster: string; headers: Array<[string, string]>; body: Uint8Array; trailers: Array<[string, string]>; timeoutMs: number; contextId: number }
export interface HttpCallAnswer { headers: HeaderList; body?: string | Uint8Array; trailers?: HeaderList }

export class PluginLoadError extends Error {}
