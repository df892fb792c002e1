// Logging: proxy_log, proxy_get_log_level.
import { S } from '../abi';
import type { Host, Hostcalls } from './types';

export function logHostcalls(h: Host): Hostcalls {
  const vm = h.vm;
  return {
    // allowed everywhere, start functions and the allocator included
    proxy_log(level: number, p: number, n: number): number {
      if (level > 5) return S.BadArgument;
      vm.refresh();
      if (!vm.ok(p, n)) return S.InvalidMemoryAccess;
      if (level >= h.logLevel) h.log(level, vm.str(p, n));
      return S.Ok;
    },
    proxy_get_log_level(rp: number): number {
      vm.check('proxy_get_log_level'); vm.refresh();
      if (!vm.ok(rp, 4)) return S.InvalidMemoryAccess;
      vm.dv.setUint32(rp, h.logLevel, true);
      return S.Ok;
    },
  };
}
