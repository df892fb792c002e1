// Buffers: proxy_get_buffer_bytes, proxy_get_buffer_status, proxy_set_buffer_bytes.
import { S, BufferType } from '../abi';
import type { Host, Hostcalls } from './types';

export function bufferHostcalls(h: Host): Hostcalls {
  const vm = h.vm;
  return {
    proxy_get_buffer_bytes(type: number, start: number, max: number, pp: number, sp: number): number {
      vm.check('proxy_get_buffer_bytes'); vm.refresh();
      const b = h.buffer(type);
      if (typeof b === 'number') return b;
      start >>>= 0; max >>>= 0;
      if (start >= b.length || max === 0) return vm.out(null, pp, sp);
      const end = Math.min(b.length, start + max);
      return vm.out(b.subarray(start, end), pp, sp);
    },
    proxy_get_buffer_status(type: number, sp: number, fp: number): number {
      vm.check('proxy_get_buffer_status'); vm.refresh();
      const b = h.buffer(type);
      if (typeof b === 'number') return b;
      if (!vm.ok(sp, 4) || !vm.ok(fp, 4)) return S.InvalidMemoryAccess;
      vm.dv.setUint32(sp, b.length, true); vm.dv.setUint32(fp, 0, true);
      return S.Ok;
    },
    proxy_set_buffer_bytes(type: number, start: number, len: number, dp: number, dl: number): number {
      vm.check('proxy_set_buffer_bytes'); vm.refresh();
      if (!vm.ok(dp, dl)) return S.InvalidMemoryAccess;
      const conn = h.targetConn();
      if ((type === BufferType.DownstreamData || type === BufferType.UpstreamData) && conn) return conn.setData(type, start >>> 0, len >>> 0, vm.bytes(dp, dl));
      // GRPC_CALL_MESSAGE: the root's receive buffer is a mutable Buffer::Instance during proxy_on_grpc_receive
      // (Envoy getBuffer -> buffer_.set(grpc_receive_buffer_.get()), copyFrom rules); outside it BufferBase::copyFrom
      if (type === BufferType.GrpcReceiveBuffer) return h.grpc.setMessage(start >>> 0, len >>> 0, vm.bytes(dp, dl));
      if (type !== BufferType.HttpRequestBody && type !== BufferType.HttpResponseBody) {
        return type > BufferType.CallData ? S.BadArgument : (h.buffer(type) === S.NotFound ? S.NotFound : S.BadArgument);
      }
      const s = h.target();
      if (!s) return S.BadArgument; // root or TCP context: no body buffer (Envoy BufferBase::copyFrom on an empty buffer)
      return s.setBody(type, start >>> 0, len >>> 0, vm.bytes(dp, dl));
    },
  };
}
