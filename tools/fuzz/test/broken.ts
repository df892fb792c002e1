// Deliberately broken filters, hand-made with the host's wasm builder: each breaks one invariant,
// so the tests can show that the fuzzer notices.
import { WasmBuilder, op } from '@meshwasm/proxy-wasm-host/testing/wasm-builder';

type Override = Partial<Record<'configure' | 'requestHeaders', number[]>>;

/** A filter that does nothing (passes every byte, accepts every config) unless overridden. */
export function filter(o: Override = {}, withLog = false): Uint8Array {
  const b = new WasmBuilder();
  const log = withLog ? b.import('env', 'proxy_log', 'iii>i') : -1;
  b.func('>', [], 'proxy_abi_version_0_2_1');
  b.func('i>i', op.i32(4096), 'malloc');
  b.func('ii>', [], 'proxy_on_context_create');
  b.func('ii>i', op.i32(1), 'proxy_on_vm_start');
  b.func('ii>i', o.configure ?? op.i32(1), 'proxy_on_configure');
  b.func('iii>i', o.requestHeaders ?? op.i32(0), 'proxy_on_request_headers');
  b.func('iii>i', op.i32(0), 'proxy_on_response_headers');
  b.func('iii>i', op.i32(0), 'proxy_on_request_body');
  b.func('iii>i', op.i32(0), 'proxy_on_response_body');
  b.func('i>', [], 'proxy_on_log');
  b.func('i>i', op.i32(1), 'proxy_on_done');
  b.func('i>', [], 'proxy_on_delete');
  if (withLog) b.addData(16, 'config: bad');
  void log;
  return b.build();
}

/** Accepts every config and lets every byte through: bad configs accepted, secrets leak, denied hosts pass. */
export const acceptsAll = () => filter();
/** Traps in on_request_headers. */
export const trapsOnRequest = () => filter({ requestHeaders: op.unreachable });
/** Grows linear memory by one page on every request. */
export const growsOnRequest = () => filter({ requestHeaders: [...op.i32(1), ...op.memGrow, ...op.drop, ...op.i32(0)] });
/** Pauses every request (StopAllIterationAndWatermark) and never resumes it. */
export const neverResumes = () => filter({ requestHeaders: op.i32(4) });
/** Refuses every config, logging two error lines instead of one. */
export const refusesWithTwoLines = () => {
  const line = [...op.i32(4), ...op.i32(16), ...op.i32(11), ...op.call(0), ...op.drop];
  return filter({ configure: [...line, ...line, ...op.i32(0)] }, true);
};
/** Refuses every config with exactly one error line (right for bad configs, wrong for good ones). */
export const refusesEverything = () => filter({ configure: [...op.i32(4), ...op.i32(16), ...op.i32(11), ...op.call(0), ...op.drop, ...op.i32(0)] }, true);
