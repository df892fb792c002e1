// The WASI functions of proxy-wasm-cpp-host: stdout/stderr go to the log (info / error), clocks, random, the
// environment from vm_config; the file system and sockets answer an error.
import { randomFillSync } from 'node:crypto';
import { LogLevel, WASI_IMPORTS } from '../abi';
import type { Host, Hostcalls } from './types';

const enum Errno { BadF = 8, Fault = 21, Inval = 28, NoEnt = 44, NoSys = 52, NotSup = 58 }

export function wasiHostcalls(h: Host): Hostcalls {
  const vm = h.vm;
  const w: Hostcalls = {
    fd_write(fd: number, iovs: number, n: number, rp: number): number {
      vm.refresh();
      if (fd !== 1 && fd !== 2) return Errno.BadF;
      if (!vm.ok(iovs, n * 8) || !vm.ok(rp, 4)) return Errno.Fault;
      let msg = '';
      let total = 0;
      for (let i = 0; i < n; i++) {
        const p = vm.dv.getUint32(iovs + i * 8, true), l = vm.dv.getUint32(iovs + i * 8 + 4, true);
        if (!vm.ok(p, l)) return Errno.Fault;
        msg += vm.str(p, l); total += l;
      }
      if (msg.endsWith('\n')) msg = msg.slice(0, -1);
      h.log(fd === 1 ? LogLevel.Info : LogLevel.Error, msg);
      vm.dv.setUint32(rp, total, true);
      return 0;
    },
    fd_read(): number { vm.check('fd_read'); return Errno.NoSys; },
    fd_seek(): number { vm.check('fd_seek'); h.log(LogLevel.Error, 'wasi fd_seek is not supported', true); return 0; },
    fd_close(): number { vm.check('fd_close'); h.log(LogLevel.Error, 'wasi fd_close is not supported', true); return 0; },
    fd_fdstat_get(fd: number, p: number): number {
      vm.refresh();
      if (fd !== 1 && fd !== 2) return Errno.BadF;
      if (!vm.ok(p, 24)) return Errno.Fault;
      vm.mem.fill(0, p, p + 24);
      vm.dv.setUint8(p, 2); // filetype character device
      vm.dv.setBigUint64(p + 8, 64n, true); // rights: fd_write
      return 0;
    },
    fd_fdstat_set_flags(): number { return Errno.NoSys; },
    fd_prestat_get(): number { return Errno.BadF; },
    fd_prestat_dir_name(): number { return Errno.NoSys; },
    environ_sizes_get(cp: number, sp: number): number {
      vm.refresh(); if (!vm.ok(cp, 4) || !vm.ok(sp, 4)) return Errno.Fault;
      vm.dv.setUint32(cp, h.envEntries.length, true);
      vm.dv.setUint32(sp, h.envEntries.reduce((a, b) => a + b.length, 0), true);
      return 0;
    },
    environ_get(ap: number, bp: number): number {
      vm.refresh();
      for (const e of h.envEntries) {
        if (!vm.ok(ap, 4) || !vm.ok(bp, e.length)) return Errno.Fault;
        vm.dv.setUint32(ap, bp, true); vm.mem.set(e, bp); ap += 4; bp += e.length;
      }
      return 0;
    },
    args_sizes_get(cp: number, sp: number): number {
      vm.refresh(); if (!vm.ok(cp, 4) || !vm.ok(sp, 4)) return Errno.Fault;
      vm.dv.setUint32(cp, 0, true); vm.dv.setUint32(sp, 0, true);
      return 0;
    },
    args_get(): number { return 0; },
    clock_time_get(id: number, _prec: bigint, rp: number): number {
      vm.refresh(); if (!vm.ok(rp, 8)) return Errno.Fault;
      if (id === 0) vm.dv.setBigUint64(rp, h.opts.now ? h.opts.now() : BigInt(Date.now()) * 1000000n, true); // realtime
      else if (id === 1) vm.dv.setBigUint64(rp, h.opts.now ? h.opts.now() : process.hrtime.bigint(), true); // monotonic
      else return Errno.NotSup;
      return 0;
    },
    clock_res_get(_id: number, rp: number): number { vm.refresh(); if (!vm.ok(rp, 8)) return Errno.Fault; vm.dv.setBigUint64(rp, 1n, true); return 0; },
    random_get(p: number, n: number): number {
      vm.refresh();
      if (n > 65536) return Errno.Inval;
      if (!vm.ok(p, n)) return Errno.Fault;
      if (n) randomFillSync(vm.mem, p, n);
      return 0;
    },
    proc_exit(code: number): void { h.log(LogLevel.Trace, `wasi proc_exit(${code})`, true); },
    sched_yield(): number { return 0; },
    poll_oneoff(_i: number, _o: number, _n: number, rp: number): number { vm.refresh(); if (vm.ok(rp, 4)) vm.dv.setUint32(rp, 0, true); return 0; },
    path_open(): number { vm.check('path_open'); return Errno.NoEnt; },
    path_filestat_get(): number { vm.check('path_filestat_get'); return Errno.NotSup; },
    fd_filestat_get(): number { vm.check('fd_filestat_get'); return Errno.BadF; },
  };
  // every other WASI function Envoy registers: an error (sockets: not supported)
  for (const name of Object.keys(WASI_IMPORTS)) if (!w[name]) w[name] = (): number => { vm.check(name); return name.startsWith('sock_') ? Errno.NotSup : Errno.BadF; };
  return w;
}
