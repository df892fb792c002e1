// ABI constants and the import/export signature tables (wasm types: i = i32, I = i64; "params>results").

export const enum S { Ok = 0, NotFound = 1, BadArgument = 2, SerializationFailure = 3, ParseFailure = 4, InvalidMemoryAccess = 6, Empty = 7, CasMismatch = 8, InternalFailure = 10, BrokenConnection = 11, Unimplemented = 12 }

/** proxy_log / proxy_get_log_level levels (LOG_LEVELS[level] is the name). */
export const enum LogLevel { Trace = 0, Debug = 1, Info = 2, Warn = 3, Error = 4, Critical = 5 }

/** proxy_get_buffer_bytes & co: which buffer (ABI WasmBufferType). */
export const enum BufferType {
  HttpRequestBody = 0, HttpResponseBody = 1, DownstreamData = 2, UpstreamData = 3, HttpCallResponseBody = 4,
  GrpcReceiveBuffer = 5, VmConfiguration = 6, PluginConfiguration = 7, CallData = 8,
}

/** proxy_get_header_map_* & co: which header map (ABI WasmHeaderMapType). */
export const enum MapType {
  RequestHeaders = 0, RequestTrailers = 1, ResponseHeaders = 2, ResponseTrailers = 3,
  GrpcReceiveInitialMetadata = 4, GrpcReceiveTrailingMetadata = 5, HttpCallResponseHeaders = 6, HttpCallResponseTrailers = 7,
}

/** proxy_continue_stream / proxy_close_stream: which stream (ABI WasmStreamType). */
export const enum StreamType { Request = 0, Response = 1, Downstream = 2, Upstream = 3 }

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'critical'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export type FilterStatus =
  | 'Continue' | 'StopIteration' | 'ContinueAndEndStream' | 'StopAllIterationAndBuffer' | 'StopAllIterationAndWatermark'
  | 'StopIterationAndBuffer' | 'StopIterationAndWatermark' | 'StopIterationNoBuffer';

/** Host functions Envoy registers in `env` for ABI 0.2.x modules. */
export const ENV_IMPORTS: Record<string, string> = {
  proxy_log: 'iii>i', proxy_get_log_level: 'i>i', proxy_get_current_time_nanoseconds: 'i>i',
  proxy_set_tick_period_milliseconds: 'i>i', proxy_done: '>i', proxy_set_effective_context: 'i>i',
  proxy_get_buffer_bytes: 'iiiii>i', proxy_get_buffer_status: 'iii>i', proxy_set_buffer_bytes: 'iiiii>i',
  proxy_get_header_map_size: 'ii>i', proxy_get_header_map_pairs: 'iii>i', proxy_set_header_map_pairs: 'iii>i',
  proxy_get_header_map_value: 'iiiii>i', proxy_add_header_map_value: 'iiiii>i', proxy_replace_header_map_value: 'iiiii>i',
  proxy_remove_header_map_value: 'iii>i', proxy_continue_stream: 'i>i', proxy_close_stream: 'i>i',
  proxy_get_status: 'iii>i', proxy_send_local_response: 'iiiiiiii>i', proxy_http_call: 'iiiiiiiiii>i',
  proxy_grpc_call: 'iiiiiiiiiiii>i', proxy_grpc_stream: 'iiiiiiiii>i', proxy_grpc_send: 'iiii>i',
  proxy_grpc_cancel: 'i>i', proxy_grpc_close: 'i>i', proxy_set_shared_data: 'iiiii>i', proxy_get_shared_data: 'iiiii>i',
  proxy_register_shared_queue: 'iii>i', proxy_resolve_shared_queue: 'iiiii>i', proxy_enqueue_shared_queue: 'iii>i',
  proxy_dequeue_shared_queue: 'iii>i', proxy_define_metric: 'iiii>i', proxy_record_metric: 'iI>i',
  proxy_increment_metric: 'iI>i', proxy_get_metric: 'ii>i', proxy_get_property: 'iiii>i', proxy_set_property: 'iiii>i',
  proxy_call_foreign_function: 'iiiiii>i', pthread_equal: 'ii>i', emscripten_notify_memory_growth: 'i>',
};

/** WASI functions of proxy-wasm-cpp-host (registered under wasi_snapshot_preview1 and wasi_unstable). */
export const WASI_IMPORTS: Record<string, string> = {
  fd_write: 'iiii>i', fd_read: 'iiii>i', fd_seek: 'iIii>i', fd_close: 'i>i', fd_fdstat_get: 'ii>i',
  fd_fdstat_set_flags: 'ii>i', fd_prestat_get: 'ii>i', fd_prestat_dir_name: 'iii>i', environ_get: 'ii>i',
  environ_sizes_get: 'ii>i', args_get: 'ii>i', args_sizes_get: 'ii>i', clock_time_get: 'iIi>i', clock_res_get: 'ii>i',
  random_get: 'ii>i', proc_exit: 'i>', sched_yield: '>i', poll_oneoff: 'iiii>i', path_open: 'iiiiiIIii>i',
  path_filestat_get: 'iiiii>i', fd_filestat_get: 'ii>i', fd_tell: 'ii>i', fd_sync: 'i>i', fd_datasync: 'i>i',
  fd_advise: 'iIIi>i', fd_allocate: 'iII>i', fd_pread: 'iiiIi>i', fd_pwrite: 'iiiIi>i', fd_readdir: 'iiiIi>i',
  fd_renumber: 'ii>i', fd_filestat_set_size: 'iI>i', fd_filestat_set_times: 'iIIi>i', path_create_directory: 'iii>i',
  path_remove_directory: 'iii>i', path_unlink_file: 'iii>i', path_readlink: 'iiiiii>i', path_rename: 'iiiiii>i',
  path_symlink: 'iiiii>i', path_link: 'iiiiiii>i', path_filestat_set_times: 'iiiiIIi>i', sock_accept: 'iii>i',
  sock_recv: 'iiiiii>i', sock_send: 'iiiii>i', sock_shutdown: 'ii>i',
};

/** Imports callable during _initialize/_start (cpp-host "restricted callbacks" whitelist). */
export const START_ALLOWED = new Set(['proxy_log', 'emscripten_notify_memory_growth', 'fd_write', 'args_get', 'args_sizes_get',
  'environ_get', 'environ_sizes_get', 'clock_time_get', 'clock_res_get', 'random_get', 'poll_oneoff', 'fd_fdstat_get',
  'fd_fdstat_set_flags', 'proc_exit', 'fd_prestat_get', 'fd_prestat_dir_name', 'fd_close', 'fd_seek', 'sched_yield']);
/** Imports callable from inside malloc / proxy_on_memory_allocate. */
export const MALLOC_ALLOWED = new Set(['proxy_log', 'fd_write', 'clock_time_get', 'poll_oneoff', 'emscripten_notify_memory_growth']);

/** Callback exports whose signature Envoy checks. */
export const EXPORT_SIGS: Record<string, string> = {
  malloc: 'i>i', proxy_on_memory_allocate: 'i>i', _initialize: '>', _start: '>', main: 'ii>i', __main_void: '>i',
  proxy_on_context_create: 'ii>', proxy_on_done: 'i>i', proxy_on_log: 'i>', proxy_on_delete: 'i>',
  proxy_on_vm_start: 'ii>i', proxy_on_configure: 'ii>i', proxy_validate_configuration: 'ii>i', proxy_on_tick: 'i>',
  proxy_on_request_headers: 'iii>i', proxy_on_request_body: 'iii>i', proxy_on_request_trailers: 'ii>i',
  proxy_on_response_headers: 'iii>i', proxy_on_response_body: 'iii>i', proxy_on_response_trailers: 'ii>i',
  proxy_on_http_call_response: 'iiiii>', proxy_on_queue_ready: 'ii>', proxy_on_foreign_function: 'iii>',
  proxy_on_request_metadata: 'ii>i', proxy_on_response_metadata: 'ii>i',
  proxy_on_grpc_receive_initial_metadata: 'iii>', proxy_on_grpc_receive: 'iii>', proxy_on_grpc_receive_trailing_metadata: 'iii>',
  proxy_on_grpc_close: 'iii>',
  proxy_on_new_connection: 'i>i', proxy_on_downstream_data: 'iii>i', proxy_on_upstream_data: 'iii>i',
  proxy_on_downstream_connection_close: 'ii>', proxy_on_upstream_connection_close: 'ii>',
};

export function sigText(sig: string): string {
  const [p, r] = sig.split('>');
  const t = (c: string) => ({ i: 'i32', I: 'i64', f: 'f32', F: 'f64' } as Record<string, string>)[c] ?? c;
  return `(${[...p].map(t).join(', ')}) -> (${[...(r ?? '')].map(t).join(', ')})`;
}
