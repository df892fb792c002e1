// Process-wide shared data and shared queues, keyed by vm_id (proxy-wasm-cpp-host shared_data.cc / shared_queue.cc).

export interface QueueOwner { deliverQueueReady(rootContextId: number, token: number): void }
interface Queue { vmId: string; name: string; token: number; items: Uint8Array[]; owner: QueueOwner; ownerRoot: number }
interface VmShared { data: Map<string, { value: Uint8Array; cas: number }>; refs: number }

let nextCas = 1;
let nextQueueToken = 1;
const vms = new Map<string, VmShared>();
const queues = new Map<number, Queue>();
const queueByName = new Map<string, number>();

export function acquireVm(vmId: string): void { const v = vms.get(vmId); if (v) v.refs++; else vms.set(vmId, { data: new Map(), refs: 1 }); }
/** Called when a plugin closes: the last VM of a vm_id takes its shared data and queues with it. */
export function releaseVm(vmId: string): void {
  const v = vms.get(vmId);
  if (!v || --v.refs > 0) return;
  vms.delete(vmId);
  for (const [t, q] of queues) if (q.vmId === vmId) { queues.delete(t); queueByName.delete(vmId + '\0' + q.name); }
}
function vm(vmId: string): VmShared { let v = vms.get(vmId); if (!v) vms.set(vmId, (v = { data: new Map(), refs: 0 })); return v; }

export function getSharedData(vmId: string, key: string): { value: Uint8Array; cas: number } | undefined { return vm(vmId).data.get(key); }
/** Returns false on CAS mismatch. */
export function setSharedData(vmId: string, key: string, value: Uint8Array, cas: number): boolean {
  const d = vm(vmId).data;
  const cur = d.get(key);
  if (cas !== 0 && cur && cur.cas !== cas) return false;
  if (cas !== 0 && !cur) { /* Envoy: cas given for a missing key still sets */ }
  let c = nextCas++; if (c === 0) c = nextCas++;
  if (nextCas > 0xffffffff) nextCas = 1;
  d.set(key, { value: Uint8Array.prototype.slice.call(value), cas: c }); // a copy: value may be a view into wasm memory
  return true;
}

export function registerQueue(vmId: string, name: string, owner: QueueOwner, ownerRoot: number): number {
  const k = vmId + '\0' + name;
  const t = queueByName.get(k);
  if (t !== undefined) { const q = queues.get(t)!; q.owner = owner; q.ownerRoot = ownerRoot; return t; }
  const token = nextQueueToken++;
  queues.set(token, { vmId, name, token, items: [], owner, ownerRoot });
  queueByName.set(k, token);
  return token;
}
export function resolveQueue(vmId: string, name: string): number | undefined { return queueByName.get(vmId + '\0' + name); }
export function enqueue(token: number, data: Uint8Array): boolean {
  const q = queues.get(token);
  if (!q) return false;
  q.items.push(Uint8Array.prototype.slice.call(data)); // a copy, not a view into wasm memory
  q.owner.deliverQueueReady(q.ownerRoot, token);
  return true;
}
/** undefined: unknown token; null: empty. */
export function dequeue(token: number): Uint8Array | null | undefined {
  const q = queues.get(token);
  if (!q) return undefined;
  return q.items.length ? q.items.shift()! : null;
}
export function queueSize(token: number): number { return queues.get(token)?.items.length ?? 0; }
