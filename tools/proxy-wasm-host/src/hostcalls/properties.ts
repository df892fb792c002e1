// Properties: proxy_get_property, proxy_set_property. A path is NUL-separated segments.
import { S } from '../abi';
import { serializeProperty } from '../properties';
import type { Host, Hostcalls } from './types';

export function propertyHostcalls(h: Host): Hostcalls {
  const vm = h.vm;
  const path = (p: number, n: number): string[] => {
    let s = vm.str(p, n);
    if (s.endsWith('\0')) s = s.slice(0, -1);
    return s.split('\0');
  };
  return {
    proxy_get_property(pp: number, pl: number, rp: number, rs: number): number {
      vm.check('proxy_get_property'); vm.refresh();
      if (!vm.ok(pp, pl)) return S.InvalidMemoryAccess;
      const v = h.property(path(pp, pl));
      if (v === undefined) return S.NotFound;
      let bytes: Uint8Array;
      try { bytes = serializeProperty(v); } catch { return S.SerializationFailure; }
      return vm.out(bytes, rp, rs);
    },
    proxy_set_property(pp: number, pl: number, vp: number, vl: number): number {
      vm.check('proxy_set_property'); vm.refresh();
      if (!vm.ok(pp, pl) || !vm.ok(vp, vl)) return S.InvalidMemoryAccess;
      h.setProperty(path(pp, pl).join('.'), vm.copy(vp, vl));
      return S.Ok;
    },
  };
}
