// Property values and Envoy's serializeValue encoding.
import { encodePairs, type HeaderValue } from './headers';

/**
 * A property value. Encoding (Envoy serializeValue): string -> UTF-8 bytes; Uint8Array -> raw bytes;
 * bigint and integral numbers -> 8-byte little-endian int64; other numbers -> 8-byte LE double;
 * boolean -> 1 byte; Date -> int64 ns since epoch; arrays/objects -> proxy-wasm pairs (arrays: elements as keys,
 * empty values; objects: key -> recursively serialized value).
 */
export type PropertyValue = string | Uint8Array | bigint | number | boolean | Date | PropertyValue[] | { [key: string]: PropertyValue };

export function serializeProperty(v: PropertyValue): Uint8Array {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'bigint') { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt.asIntN(64, v)); return b; }
  if (typeof v === 'number') {
    const b = Buffer.alloc(8);
    if (Number.isInteger(v)) b.writeBigInt64LE(BigInt(v)); else b.writeDoubleLE(v);
    return b;
  }
  if (typeof v === 'boolean') return Uint8Array.of(v ? 1 : 0);
  if (v instanceof Date) { const b = Buffer.alloc(8); b.writeBigInt64LE(BigInt(v.getTime()) * 1000000n); return b; }
  if (Array.isArray(v)) return encodePairs(v.map((x) => [Buffer.from(serializeProperty(x)).toString('latin1'), ''] as [string, HeaderValue]));
  return encodePairs(Object.entries(v).map(([k, x]) => [k, serializeProperty(x)] as [string, HeaderValue]));
}

/** Index into a structured value by path segments (object keys, decimal list indexes). */
export function indexProperty(v: PropertyValue, segs: string[], from: number): PropertyValue | undefined {
  let cur: PropertyValue | undefined = v;
  for (let i = from; i < segs.length; i++) {
    if (cur === undefined || cur === null) return undefined;
    if (Array.isArray(cur)) { const n = Number(segs[i]); cur = Number.isInteger(n) ? cur[n] : undefined; continue; }
    if (typeof cur === 'object' && !(cur instanceof Uint8Array) && !(cur instanceof Date)) { cur = Object.prototype.hasOwnProperty.call(cur, segs[i]) ? (cur as Record<string, PropertyValue>)[segs[i]] : undefined; continue; }
    return undefined;
  }
  return cur;
}

/** Look a path up in a flat map whose keys are dotted paths ('xds.listener_direction'); longest prefix wins. */
/**
 * A property of a stream or connection context, first found wins: the filter state the module set
 * (`set_property`), the values the test/user passed for this context, the plugin-wide values, then
 * `derived` (what the host computes from the context: request headers, addresses...).
 */
export function lookupContextProperty(
  segs: string[],
  filterState: Record<string, PropertyValue>,
  own: Record<string, PropertyValue> | undefined,
  pluginProps: Record<string, PropertyValue> | undefined,
  derived: (first: string) => Record<string, PropertyValue> | undefined,
): PropertyValue | undefined {
  const key = segs.join('.');
  if (Object.prototype.hasOwnProperty.call(filterState, key)) return filterState[key];
  let v = lookupProperty(own, segs);
  if (v !== undefined) return v;
  v = lookupProperty(pluginProps, segs);
  if (v !== undefined) return v;
  return lookupProperty(derived(segs[0]), segs);
}

export function lookupProperty(map: Record<string, PropertyValue> | undefined, segs: string[]): PropertyValue | undefined {
  if (!map) return undefined;
  for (let i = segs.length; i >= 1; i--) {
    const key = i === 1 ? segs[0] : segs.slice(0, i).join('.');
    if (Object.prototype.hasOwnProperty.call(map, key)) return indexProperty(map[key], segs, i);
  }
  return undefined;
}
