// Shared data and shared queues, keyed by vm_id (the process-wide store is ../shared.ts).
import { S } from '../abi';
import * as shared from '../shared';
import type { Host, Hostcalls } from './types';

export function sharedHostcalls(h: Host): Hostcalls {
  const vm = h.vm;
  return {
    proxy_set_shared_data(kp: number, kl: number, vp: number, vl: number, cas: number): number {
      vm.check('proxy_set_shared_data'); vm.refresh();
      if (!vm.ok(kp, kl) || !vm.ok(vp, vl)) return S.InvalidMemoryAccess;
      return shared.setSharedData(h.vmId, vm.str(kp, kl), vm.bytes(vp, vl), cas >>> 0) ? S.Ok : S.CasMismatch;
    },
    proxy_get_shared_data(kp: number, kl: number, pp: number, sp: number, cp: number): number {
      vm.check('proxy_get_shared_data'); vm.refresh();
      if (!vm.ok(kp, kl) || !vm.ok(cp, 4)) return S.InvalidMemoryAccess;
      const e = shared.getSharedData(h.vmId, vm.str(kp, kl));
      if (!e) return S.NotFound;
      const r = vm.out(e.value, pp, sp);
      if (r === S.Ok) vm.dv.setUint32(cp, e.cas, true);
      return r;
    },
    proxy_register_shared_queue(np: number, nl: number, rt: number): number {
      vm.check('proxy_register_shared_queue'); vm.refresh();
      if (!vm.ok(np, nl) || !vm.ok(rt, 4)) return S.InvalidMemoryAccess;
      vm.dv.setUint32(rt, shared.registerQueue(h.vmId, vm.str(np, nl), h, h.rootContextId), true);
      return S.Ok;
    },
    proxy_resolve_shared_queue(vp: number, vl: number, np: number, nl: number, rt: number): number {
      vm.check('proxy_resolve_shared_queue'); vm.refresh();
      if (!vm.ok(vp, vl) || !vm.ok(np, nl) || !vm.ok(rt, 4)) return S.InvalidMemoryAccess;
      const vmId = vl === 0 ? h.vmId : vm.str(vp, vl);
      const t = shared.resolveQueue(vmId, vm.str(np, nl));
      if (t === undefined) return S.NotFound;
      vm.dv.setUint32(rt, t, true);
      return S.Ok;
    },
    proxy_enqueue_shared_queue(token: number, p: number, n: number): number {
      vm.check('proxy_enqueue_shared_queue'); vm.refresh();
      if (!vm.ok(p, n)) return S.InvalidMemoryAccess;
      return shared.enqueue(token >>> 0, vm.bytes(p, n)) ? S.Ok : S.NotFound;
    },
    proxy_dequeue_shared_queue(token: number, pp: number, sp: number): number {
      vm.check('proxy_dequeue_shared_queue'); vm.refresh();
      const d = shared.dequeue(token >>> 0);
      if (d === undefined) return S.NotFound;
      if (d === null) return S.Empty;
      return vm.out(d, pp, sp);
    },
  };
}
