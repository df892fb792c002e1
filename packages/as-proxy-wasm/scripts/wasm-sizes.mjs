// Lists imports and the largest functions of a .wasm built with a name section (--debug).
import { readFileSync } from "node:fs";
const buf = readFileSync(process.argv[2]);
const mod = new WebAssembly.Module(buf);
console.log("imports:", WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`).join(" "));
let p = 8; const sections = [];
const leb = () => { let r = 0, s = 0, b; do { b = buf[p++]; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return r >>> 0; };
while (p < buf.length) { const id = buf[p++]; const size = leb(); sections.push({ id, start: p, size }); p += size; }
const names = new Map(); const nImports = WebAssembly.Module.imports(mod).filter(i => i.kind === "function").length;
for (const s of sections) if (s.id === 0) { p = s.start; const nl = leb(); const nm = buf.slice(p, p + nl).toString(); p += nl;
  if (nm === "name") { while (p < s.start + s.size) { const sub = buf[p++]; const ss = leb(); const end = p + ss;
    if (sub === 1) { const c = leb(); for (let i = 0; i < c; i++) { const idx = leb(); const l = leb(); names.set(idx, buf.slice(p, p + l).toString()); p += l; } }
    p = end; } } }
const code = sections.find((s) => s.id === 10); p = code.start; const n = leb(); const fns = [];
for (let i = 0; i < n; i++) { const sz = leb(); fns.push({ name: names.get(i + nImports) ?? `f${i + nImports}`, sz }); p += sz; }
fns.sort((a, b) => b.sz - a.sz);
console.log("total", buf.length, "code", code.size, "data", sections.filter(s=>s.id===11).reduce((a,s)=>a+s.size,0));
for (const f of fns.slice(0, +(process.argv[3] ?? 25))) console.log(String(f.sz).padStart(6), f.name);
