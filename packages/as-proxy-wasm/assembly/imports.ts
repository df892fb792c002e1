// Host functions of Proxy-Wasm ABI 0.2.1 (module "env") and the WASI preview1
// functions Envoy implements. AssemblyScript only emits an import for a
// declared function that is actually called, so a filter imports exactly what
// it uses. Every pointer/size is u32 (wasm32), outputs go through `ret*` slots.

// ---- logging / misc ----
@external("env", "proxy_log")
export declare function proxy_log(level: i32, msg: usize, msgSize: usize): i32;
@external("env", "proxy_get_log_level")
export declare function proxy_get_log_level(retLevel: usize): i32;
@external("env", "proxy_set_tick_period_milliseconds")
export declare function proxy_set_tick_period_milliseconds(periodMs: u32): i32;
@external("env", "proxy_done")
export declare function proxy_done(): i32;
@external("env", "proxy_set_effective_context")
export declare function proxy_set_effective_context(contextId: u32): i32;
@external("env", "proxy_get_status")
export declare function proxy_get_status(retCode: usize, retMsg: usize, retMsgSize: usize): i32;

// ---- buffers ----
@external("env", "proxy_get_buffer_bytes")
export declare function proxy_get_buffer_bytes(type: i32, start: u32, maxSize: u32, retPtr: usize, retSize: usize): i32;
@external("env", "proxy_get_buffer_status")
export declare function proxy_get_buffer_status(type: i32, retSize: usize, retFlags: usize): i32;
@external("env", "proxy_set_buffer_bytes")
export declare function proxy_set_buffer_bytes(type: i32, start: u32, size: u32, data: usize, dataSize: usize): i32;

// ---- header maps ----
@external("env", "proxy_get_header_map_size")
export declare function proxy_get_header_map_size(map: i32, retSize: usize): i32;
@external("env", "proxy_get_header_map_pairs")
export declare function proxy_get_header_map_pairs(map: i32, retPtr: usize, retSize: usize): i32;
@external("env", "proxy_set_header_map_pairs")
export declare function proxy_set_header_map_pairs(map: i32, ptr: usize, size: usize): i32;
@external("env", "proxy_get_header_map_value")
export declare function proxy_get_header_map_value(map: i32, key: usize, keySize: usize, retPtr: usize, retSize: usize): i32;
@external("env", "proxy_add_header_map_value")
export declare function proxy_add_header_map_value(map: i32, key: usize, keySize: usize, value: usize, valueSize: usize): i32;
@external("env", "proxy_replace_header_map_value")
export declare function proxy_replace_header_map_value(map: i32, key: usize, keySize: usize, value: usize, valueSize: usize): i32;
@external("env", "proxy_remove_header_map_value")
export declare function proxy_remove_header_map_value(map: i32, key: usize, keySize: usize): i32;

// ---- stream control ----
@external("env", "proxy_continue_stream")
export declare function proxy_continue_stream(streamType: i32): i32;
@external("env", "proxy_close_stream")
export declare function proxy_close_stream(streamType: i32): i32;
@external("env", "proxy_send_local_response")
export declare function proxy_send_local_response(
  statusCode: u32, details: usize, detailsSize: usize, body: usize, bodySize: usize,
  headers: usize, headersSize: usize, grpcStatus: i32): i32;

// ---- http / grpc calls ----
@external("env", "proxy_http_call")
export declare function proxy_http_call(
  upstream: usize, upstreamSize: usize, headers: usize, headersSize: usize, body: usize, bodySize: usize,
  trailers: usize, trailersSize: usize, timeoutMs: u32, retToken: usize): i32;

// ---- shared data / queues ----
@external("env", "proxy_set_shared_data")
export declare function proxy_set_shared_data(key: usize, keySize: usize, value: usize, valueSize: usize, cas: u32): i32;
@external("env", "proxy_get_shared_data")
export declare function proxy_get_shared_data(key: usize, keySize: usize, retPtr: usize, retSize: usize, retCas: usize): i32;
@external("env", "proxy_register_shared_queue")
export declare function proxy_register_shared_queue(name: usize, nameSize: usize, retId: usize): i32;
@external("env", "proxy_resolve_shared_queue")
export declare function proxy_resolve_shared_queue(vmId: usize, vmIdSize: usize, name: usize, nameSize: usize, retId: usize): i32;
@external("env", "proxy_enqueue_shared_queue")
export declare function proxy_enqueue_shared_queue(id: u32, ptr: usize, size: usize): i32;
@external("env", "proxy_dequeue_shared_queue")
export declare function proxy_dequeue_shared_queue(id: u32, retPtr: usize, retSize: usize): i32;

// ---- metrics ----
@external("env", "proxy_define_metric")
export declare function proxy_define_metric(type: i32, name: usize, nameSize: usize, retId: usize): i32;
@external("env", "proxy_increment_metric")
export declare function proxy_increment_metric(id: u32, delta: i64): i32;
@external("env", "proxy_record_metric")
export declare function proxy_record_metric(id: u32, value: u64): i32;
@external("env", "proxy_get_metric")
export declare function proxy_get_metric(id: u32, retValue: usize): i32;

// ---- properties / foreign functions ----
@external("env", "proxy_get_property")
export declare function proxy_get_property(path: usize, pathSize: usize, retPtr: usize, retSize: usize): i32;
@external("env", "proxy_set_property")
export declare function proxy_set_property(path: usize, pathSize: usize, value: usize, valueSize: usize): i32;
@external("env", "proxy_call_foreign_function")
export declare function proxy_call_foreign_function(
  name: usize, nameSize: usize, args: usize, argsSize: usize, retPtr: usize, retSize: usize): i32;

// ---- WASI preview1 (implemented by Envoy) ----
@external("wasi_snapshot_preview1", "fd_write")
export declare function wasi_fd_write(fd: u32, iovs: usize, iovsLen: usize, retWritten: usize): u16;
@external("wasi_snapshot_preview1", "clock_time_get")
export declare function wasi_clock_time_get(clockId: u32, precision: u64, retTime: usize): u16;
@external("wasi_snapshot_preview1", "random_get")
export declare function wasi_random_get(buf: usize, len: usize): u16;
@external("wasi_snapshot_preview1", "environ_sizes_get")
export declare function wasi_environ_sizes_get(retCount: usize, retBufSize: usize): u16;
@external("wasi_snapshot_preview1", "environ_get")
export declare function wasi_environ_get(environ: usize, environBuf: usize): u16;
