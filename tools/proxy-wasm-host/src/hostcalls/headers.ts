// Header maps: proxy_get_header_map_size / _pairs / _value, proxy_set_header_map_pairs, and add / replace /
// remove of one value. The map is the current context's (see Host.mapFor).
import { S } from '../abi';
import { readPairs, writePairs, pairsSize } from '../headers';
import type { Host, Hostcalls } from './types';

export function headerHostcalls(h: Host): Hostcalls {
  const vm = h.vm;
  return {
    proxy_get_header_map_size(type: number, sp: number): number {
      vm.check('proxy_get_header_map_size'); vm.refresh();
      const m = h.mapFor(type, false); if (typeof m === 'number') return m;
      if (!vm.ok(sp, 4)) return S.InvalidMemoryAccess;
      vm.dv.setUint32(sp, m.byteSize(), true); return S.Ok;
    },
    proxy_get_header_map_pairs(type: number, pp: number, sp: number): number {
      vm.check('proxy_get_header_map_pairs'); vm.refresh();
      const m = h.mapFor(type, false);
      if (typeof m === 'number') return m === S.BadArgument ? vm.out(null, pp, sp) : m;
      if (!vm.ok(pp, 4) || !vm.ok(sp, 4)) return S.InvalidMemoryAccess;
      if (m.size === 0) return vm.out(null, pp, sp);
      const size = pairsSize(m.names, m.values);
      const p = vm.alloc(size);
      if (p === 0 || !vm.ok(p, size)) return S.InvalidMemoryAccess;
      writePairs(vm.mem, vm.dv, p, m.names, m.values);
      vm.dv.setUint32(pp, p, true); vm.dv.setUint32(sp, size, true);
      return S.Ok;
    },
    proxy_set_header_map_pairs(type: number, p: number, n: number): number {
      vm.check('proxy_set_header_map_pairs'); vm.refresh();
      if (!vm.ok(p, n)) return S.InvalidMemoryAccess;
      const m = h.mapFor(type, true); if (typeof m === 'number') return m;
      m.setAll(readPairs(vm.mem, vm.dv, p, n)); h.mapEdited(type); return S.Ok;
    },
    proxy_get_header_map_value(type: number, kp: number, kl: number, pp: number, sp: number): number {
      vm.check('proxy_get_header_map_value'); vm.refresh();
      if (!vm.ok(kp, kl)) return S.InvalidMemoryAccess;
      const m = h.mapFor(type, false); if (typeof m === 'number') return m;
      const v = m.get(vm.key(kp, kl));
      if (v === undefined) return S.NotFound;
      return vm.out(typeof v === 'string' ? Buffer.from(v) : v, pp, sp);
    },
    proxy_add_header_map_value(type: number, kp: number, kl: number, vp: number, vl: number): number {
      vm.check('proxy_add_header_map_value'); vm.refresh();
      if (!vm.ok(kp, kl) || !vm.ok(vp, vl)) return S.InvalidMemoryAccess;
      const m = h.mapFor(type, true); if (typeof m === 'number') return m;
      m.add(vm.key(kp, kl), vm.val(vp, vl)); h.mapEdited(type); return S.Ok;
    },
    proxy_replace_header_map_value(type: number, kp: number, kl: number, vp: number, vl: number): number {
      vm.check('proxy_replace_header_map_value'); vm.refresh();
      if (!vm.ok(kp, kl) || !vm.ok(vp, vl)) return S.InvalidMemoryAccess;
      const m = h.mapFor(type, true); if (typeof m === 'number') return m;
      m.replace(vm.key(kp, kl), vm.val(vp, vl)); h.mapEdited(type); return S.Ok;
    },
    proxy_remove_header_map_value(type: number, kp: number, kl: number): number {
      vm.check('proxy_remove_header_map_value'); vm.refresh();
      if (!vm.ok(kp, kl)) return S.InvalidMemoryAccess;
      const m = h.mapFor(type, true); if (typeof m === 'number') return m;
      m.remove(vm.key(kp, kl)); h.mapEdited(type); return S.Ok;
    },
  };
}
