// gRPC callouts: proxy_grpc_call, proxy_grpc_stream, proxy_grpc_send, proxy_grpc_cancel, proxy_grpc_close
// (delegating to the plugin's GrpcCallouts).
import { S } from '../abi';
import { readPairs } from '../headers';
import type { Host, Hostcalls } from './types';

export function grpcHostcalls(h: Host): Hostcalls {
  const vm = h.vm;
  return {
    proxy_grpc_call(up: number, ul: number, sp: number, sl: number, mp: number, ml: number, ip: number, il: number, gp: number, gl: number, timeout: number, rt: number): number {
      vm.check('proxy_grpc_call'); vm.refresh();
      if (!vm.ok(up, ul) || !vm.ok(sp, sl) || !vm.ok(mp, ml) || !vm.ok(ip, il) || !vm.ok(gp, gl) || !vm.ok(rt, 4)) return S.InvalidMemoryAccess;
      const r = h.grpc.call(vm.copy(up, ul), vm.str(sp, sl), vm.str(mp, ml), readPairs(vm.mem, vm.dv, ip, il), vm.bytes(gp, gl), timeout >>> 0, vm.eff || vm.cur);
      if (r.status !== S.Ok) return r.status;
      vm.dv.setUint32(rt, r.token!, true);
      return S.Ok;
    },
    proxy_grpc_stream(up: number, ul: number, sp: number, sl: number, mp: number, ml: number, ip: number, il: number, rt: number): number {
      vm.check('proxy_grpc_stream'); vm.refresh();
      if (!vm.ok(up, ul) || !vm.ok(sp, sl) || !vm.ok(mp, ml) || !vm.ok(ip, il) || !vm.ok(rt, 4)) return S.InvalidMemoryAccess;
      const r = h.grpc.stream(vm.copy(up, ul), vm.str(sp, sl), vm.str(mp, ml), readPairs(vm.mem, vm.dv, ip, il), vm.eff || vm.cur);
      if (r.status !== S.Ok) return r.status;
      vm.dv.setUint32(rt, r.token!, true);
      return S.Ok;
    },
    proxy_grpc_send(token: number, p: number, n: number, eos: number): number {
      vm.check('proxy_grpc_send'); vm.refresh();
      if (!vm.ok(p, n)) return S.InvalidMemoryAccess;
      return h.grpc.send(token >>> 0, vm.bytes(p, n), eos !== 0);
    },
    proxy_grpc_cancel(token: number): number { vm.check('proxy_grpc_cancel'); return h.grpc.cancel(token >>> 0); },
    proxy_grpc_close(token: number): number { vm.check('proxy_grpc_close'); return h.grpc.close(token >>> 0); },
  };
}
