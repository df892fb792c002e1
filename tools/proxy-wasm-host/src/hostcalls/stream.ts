// Stream control: proxy_continue_stream, proxy_close_stream, proxy_send_local_response. They delegate to the
// HTTP stream or the TCP connection of the current context; in the root context there is nothing to act on.
import { S, StreamType } from '../abi';
import { readPairs, type HeaderValue } from '../headers';
import type { Host, Hostcalls } from './types';

export function streamHostcalls(h: Host): Hostcalls {
  const vm = h.vm;
  return {
    proxy_continue_stream(type: number): number {
      vm.check('proxy_continue_stream');
      if (type > StreamType.Upstream) return S.BadArgument;
      if (type === StreamType.Upstream) return S.Unimplemented;
      const conn = h.targetConn();
      if (conn) { if (type === StreamType.Downstream) conn.continueReading(); return S.Ok; } // no decoder/encoder callbacks in TCP: Ok
      const s = h.target();
      if (!s) return S.Ok; // root context: no decoder/encoder callbacks, nothing to resume (Envoy Context::continueStream)
      if (type === StreamType.Downstream) return S.Ok;
      s.continueStream(type);
      return S.Ok;
    },
    proxy_close_stream(type: number): number {
      vm.check('proxy_close_stream');
      if (type > StreamType.Upstream) return S.BadArgument;
      const conn = h.targetConn();
      if (conn) { if (type >= StreamType.Downstream) conn.closeByFilter(type === StreamType.Downstream ? 'wasm_downstream_close' : 'wasm_upstream_close'); return S.Ok; }
      const s = h.target();
      if (!s) return S.Ok; // root context: no stream or connection to close (Envoy Context::closeStream)
      s.closeStream(type);
      return S.Ok;
    },
    proxy_send_local_response(status: number, dp: number, dl: number, bp: number, bl: number, hp: number, hl: number, grpc: number): number {
      vm.check('proxy_send_local_response'); vm.refresh();
      if (!vm.ok(dp, dl) || !vm.ok(bp, bl) || !vm.ok(hp, hl)) return S.InvalidMemoryAccess;
      const s = h.target();
      if (!s) {
        // TCP context: no decoder callbacks, Envoy answers Ok and sends nothing
        const conn = h.targetConn();
        if (conn) { conn.ignoredLocalResponses++; return S.Ok; }
        return S.BadArgument;
      }
      const details = vm.str(dp, dl).replace(/\s/g, '_');
      const body = vm.copy(bp, bl);
      const headers = readPairs(vm.mem, vm.dv, hp, hl).map(([k, v]) => [k.toLowerCase(), v] as [string, HeaderValue]);
      const g = grpc | 0;
      vm.stopNext = true;
      vm.after.push(() => s.sendLocalReply(status >>> 0, details, body, headers, g >= 0 && g <= 16 ? g : null));
      return S.Ok;
    },
  };
}
