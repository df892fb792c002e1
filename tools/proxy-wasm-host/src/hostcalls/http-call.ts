// HTTP callouts: proxy_http_call, and proxy_get_status (the status of the callout being answered).
import { S } from '../abi';
import { readPairs } from '../headers';
import type { Host, Hostcalls } from './types';

export function httpCallHostcalls(h: Host): Hostcalls {
  const vm = h.vm;
  return {
    proxy_http_call(up: number, ul: number, hp: number, hl: number, bp: number, bl: number, tp: number, tl: number, timeout: number, rt: number): number {
      vm.check('proxy_http_call'); vm.refresh();
      if (!vm.ok(up, ul) || !vm.ok(hp, hl) || !vm.ok(bp, bl) || !vm.ok(tp, tl) || !vm.ok(rt, 4)) return S.InvalidMemoryAccess;
      if ((timeout | 0) < 0) return S.BadArgument;
      const r = h.httpCall(vm.str(up, ul), readPairs(vm.mem, vm.dv, hp, hl), vm.copy(bp, bl), readPairs(vm.mem, vm.dv, tp, tl), timeout >>> 0);
      if (r.status !== S.Ok) return r.status;
      vm.dv.setUint32(rt, r.token!, true);
      return S.Ok;
    },
    proxy_get_status(cp: number, mp: number, ms: number): number {
      vm.check('proxy_get_status'); vm.refresh();
      if (!vm.ok(cp, 4)) return S.InvalidMemoryAccess;
      vm.dv.setUint32(cp, h.statusCode, true);
      return vm.outString(h.statusMessage, mp, ms);
    },
  };
}
