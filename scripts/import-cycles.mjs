#!/usr/bin/env node
// Finds import circles among the TypeScript / AssemblyScript sources of the workspace: every
// `import`, `export … from` and `import()` of a relative path or of a workspace package
// (`as-proxy-wasm`, `@meshwasm/proxy-wasm-host/…`) is an edge; each strongly connected group of
// two or more files (or a file importing itself) is a circle.
//
//   node scripts/import-cycles.mjs [DIR…]   (default: packages tools) — exit 1 and one line per circle
//
// The module API (findCycles) is what test/import-cycles.test.ts of the SDK runs.
import ts from 'typescript';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCE = /\.(ts|mts|cts)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', 'build', 'coverage', '.nx', 'fixtures', 'peer']);

/** Every source file under `dir` (test fixtures, build output and dependencies left out). */
function sourcesUnder(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (!SKIP_DIRS.has(name) && !name.startsWith('.')) sourcesUnder(p, out);
    } else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Workspace package name -> its directory (every package.json found one level under `roots`). */
function workspacePackages(roots) {
  const map = new Map();
  for (const root of roots) {
    for (const name of existsSync(root) ? readdirSync(root) : []) {
      const pj = join(root, name, 'package.json');
      if (existsSync(pj)) map.set(JSON.parse(readFileSync(pj, 'utf8')).name, join(root, name));
    }
  }
  return map;
}

/** The source file a module path (without or with a .js/.ts extension) stands for, or null. */
function asSourceFile(base) {
  const stem = base.replace(/\.(js|mjs|cjs|ts|mts|cts)$/, '');
  for (const c of [`${stem}.ts`, `${stem}.mts`, `${stem}.cts`, join(base, 'index.ts'), join(base, 'src', 'index.ts')]) {
    if (existsSync(c) && statSync(c).isFile()) return c;
  }
  return null;
}

/** The file `spec`, imported from `from`, resolves to within the workspace, or null (a dependency). */
function resolveImport(spec, from, packages) {
  if (spec.startsWith('.')) return asSourceFile(resolve(dirname(from), spec));
  const parts = spec.split('/');
  const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  const dir = packages.get(name);
  if (dir === undefined) return null;
  const sub = parts.slice(spec.startsWith('@') ? 2 : 1).join('/');
  return asSourceFile(sub ? join(dir, sub) : dir);
}

/** The import graph of `files`: file -> the workspace files it imports. */
export function importGraph(files, packages) {
  const graph = new Map();
  for (const f of files) {
    const info = ts.preProcessFile(readFileSync(f, 'utf8'), true, true);
    const deps = new Set();
    for (const { fileName } of info.importedFiles) {
      const to = resolveImport(fileName, f, packages);
      if (to !== null) deps.add(to);
    }
    graph.set(f, [...deps]);
  }
  return graph;
}

/**
 * The circles of `graph`: one per strongly connected group of files (Tarjan), as a closed `path`
 * through the group and the group's `others` (files of the group that path does not pass).
 */
export function cyclesOf(graph) {
  const index = new Map(), low = new Map(), onStack = new Set(), stack = [], groups = [];
  let next = 0;
  const visit = (v) => {
    index.set(v, next); low.set(v, next); next++;
    stack.push(v); onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const group = [];
      let w;
      do { w = stack.pop(); onStack.delete(w); group.push(w); } while (w !== v);
      if (group.length > 1 || (graph.get(v) ?? []).includes(v)) groups.push(group);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  // per group: the shortest closed path through its first file (breadth-first inside the group),
  // then the group's other files
  return groups.map((group) => {
    const inGroup = new Set(group);
    const start = [...group].sort()[0];
    const from = new Map();
    const queue = [start];
    let closedBy = null;
    while (queue.length > 0 && closedBy === null) {
      const at = queue.shift();
      for (const w of [...(graph.get(at) ?? [])].sort()) {
        if (w === start) { closedBy = at; break; }
        if (inGroup.has(w) && !from.has(w)) { from.set(w, at); queue.push(w); }
      }
    }
    const path = [start];
    for (let at = closedBy; at !== start; at = from.get(at)) path.splice(1, 0, at);
    path.push(start);
    const others = group.filter((f) => !path.includes(f)).sort();
    return { path, others };
  });
}

/**
 * The import circles among the sources under `dirs` (relative to `root`), paths relative to
 * `root`: `{ path: ["a.ts", "b.ts", "a.ts"], others: [] }` (see cyclesOf).
 */
export function findCycles(root, dirs) {
  const abs = dirs.map((d) => resolve(root, d));
  const files = abs.filter((d) => existsSync(d)).flatMap((d) => sourcesUnder(d));
  const packages = workspacePackages([join(root, 'packages'), join(root, 'tools'), ...abs]);
  return cyclesOf(importGraph(files, packages)).map((c) => ({
    path: c.path.map((f) => relative(root, f)),
    others: c.others.map((f) => relative(root, f)),
  }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const dirs = process.argv.length > 2 ? process.argv.slice(2) : ['packages', 'tools'];
  const cycles = findCycles(root, dirs);
  for (const { path, others } of cycles) {
    const more = others.length > 0 ? ` (the same circle also holds ${others.join(', ')})` : '';
    process.stdout.write(`import circle: ${path.join(' -> ')}${more}\n`);
  }
  process.stdout.write(cycles.length === 0 ? `no import circle in ${dirs.join(', ')}\n` : `${cycles.length} import circle(s)\n`);
  process.exitCode = cycles.length === 0 ? 0 : 1;
}
