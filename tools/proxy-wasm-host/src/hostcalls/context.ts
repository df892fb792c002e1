// The context and the VM: effective context, proxy_done, time, tick period, foreign functions, and the
// two emscripten/pthread helpers Envoy registers.
import { deflateSync, inflateSync } from 'node:zlib';
import { S } from '../abi';
import type { Host, Hostcalls } from './types';

export function contextHostcalls(h: Host): Hostcalls {
  const vm = h.vm;
  return {
    proxy_get_current_time_nanoseconds(rp: number): number {
      vm.check('proxy_get_current_time_nanoseconds'); vm.refresh();
      if (!vm.ok(rp, 8)) return S.InvalidMemoryAccess;
      vm.dv.setBigUint64(rp, h.opts.now ? h.opts.now() : BigInt(Date.now()) * 1000000n, true);
      return S.Ok;
    },
    proxy_set_tick_period_milliseconds(ms: number): number { vm.check('proxy_set_tick_period_milliseconds'); h.setTickPeriod(ms >>> 0); return S.Ok; },
    proxy_done(): number { vm.check('proxy_done'); return h.rootDone(); },
    proxy_set_effective_context(id: number): number {
      vm.check('proxy_set_effective_context');
      if (!h.hasContext(id)) return S.BadArgument;
      vm.eff = id;
      return S.Ok;
    },
    proxy_call_foreign_function(np: number, nl: number, ap: number, al: number, rp: number, rs: number): number {
      vm.check('proxy_call_foreign_function'); vm.refresh();
      if (!vm.ok(np, nl) || !vm.ok(ap, al)) return S.InvalidMemoryAccess;
      const name = vm.str(np, nl);
      const args = vm.bytes(ap, al);
      try {
        switch (name) {
          case 'compress': return vm.out(deflateSync(args), rp, rs);
          case 'uncompress': return vm.out(inflateSync(args), rp, rs);
          case 'clear_route_cache': return vm.out(null, rp, rs);
          case 'declare_property': return vm.out(null, rp, rs);
          default: return S.NotFound;
        }
      } catch { return S.SerializationFailure; }
    },
    pthread_equal(a: number, b: number): number { return a === b ? 1 : 0; },
    emscripten_notify_memory_growth(): void { vm.refresh(); },
  };
}
