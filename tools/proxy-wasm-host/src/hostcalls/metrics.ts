// Metrics: proxy_define_metric, proxy_record_metric, proxy_increment_metric, proxy_get_metric
// (Envoy's rules: counters only grow, histograms cannot be read back).
import { S } from '../abi';
import { MetricType } from '../metrics';
import type { Host, Hostcalls } from './types';

export function metricHostcalls(h: Host): Hostcalls {
  const vm = h.vm;
  const store = h.metricStore;
  return {
    proxy_define_metric(type: number, np: number, nl: number, rt: number): number {
      vm.check('proxy_define_metric'); vm.refresh();
      if (type > MetricType.Histogram) return S.BadArgument;
      if (!vm.ok(np, nl) || !vm.ok(rt, 4)) return S.InvalidMemoryAccess;
      vm.dv.setUint32(rt, store.define(type, vm.str(np, nl)), true);
      return S.Ok;
    },
    proxy_record_metric(id: number, v: bigint): number {
      vm.check('proxy_record_metric');
      const m = store.get(id >>> 0); if (!m) return S.NotFound;
      store.record(m, v);
      return S.Ok;
    },
    proxy_increment_metric(id: number, d: bigint): number {
      vm.check('proxy_increment_metric');
      const m = store.get(id >>> 0); if (!m) return S.NotFound;
      if (m.type === MetricType.Counter) { if (d <= 0n) return S.BadArgument; m.value = BigInt.asUintN(64, m.value + d); return S.Ok; }
      if (m.type === MetricType.Gauge) { m.value = BigInt.asUintN(64, m.value + d); return S.Ok; }
      return S.BadArgument;
    },
    proxy_get_metric(id: number, rp: number): number {
      vm.check('proxy_get_metric'); vm.refresh();
      const m = store.get(id >>> 0); if (!m) return S.NotFound;
      if (m.type === MetricType.Histogram) return S.BadArgument;
      if (!vm.ok(rp, 8)) return S.InvalidMemoryAccess;
      vm.dv.setBigUint64(rp, m.value, true);
      return S.Ok;
    },
  };
}
