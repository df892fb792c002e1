// The package's layering: no import circle between its source files (type-only imports count too), and no
// source file over 500 lines.
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = join(__dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports and re-exports of a file, resolved to files of the package. */
export function localImports(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"\n]*?(?:from\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm)) {
    const base = resolve(dirname(file), m[1]);
    for (const candidate of [base + '.ts', join(base, 'index.ts')]) {
      try { if (statSync(candidate).isFile()) { out.push(candidate); break; } } catch { /* next */ }
    }
  }
  return out;
}

/** The first import circle found, as a list of files (empty when there is none). */
export function findCircle(graph: Map<string, string[]>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string): string[] => {
    if (state.get(f) === 'done') return [];
    if (state.get(f) === 'open') return [...stack.slice(stack.indexOf(f)), f];
    state.set(f, 'open'); stack.push(f);
    for (const g of graph.get(f) ?? []) { const c = visit(g); if (c.length) return c; }
    stack.pop(); state.set(f, 'done');
    return [];
  };
  for (const f of graph.keys()) { const c = visit(f); if (c.length) return c; }
  return [];
}

describe('package layering', () => {
  const files = sourceFiles(SRC);

  test('the circle finder sees a circle, type-only imports included', () => {
    const a = join(SRC, 'a.ts'), b = join(SRC, 'b.ts');
    expect(findCircle(new Map([[a, [b]], [b, [a]]]))).toEqual([a, b, a]);
    expect(findCircle(new Map([[a, [b]], [b, []]]))).toEqual([]);
    expect(localImports(join(SRC, 'stream.ts'), "import type { ContextOwner } from './owner';\n")).toEqual([join(SRC, 'owner.ts')]);
    expect(localImports(join(SRC, 'plugin.ts'), "import { buildImports } from './hostcalls';\n")).toEqual([join(SRC, 'hostcalls', 'index.ts')]);
  });

  test('no import circle in src/', () => {
    const graph = new Map(files.map((f) => [f, localImports(f, readFileSync(f, 'utf8'))]));
    expect(graph.get(join(SRC, 'plugin.ts'))?.length).toBeGreaterThan(5);
    expect(findCircle(graph).map((f) => relative(SRC, f))).toEqual([]);
  });

  test('no source file over 500 lines', () => {
    const long = files.map((f) => [relative(SRC, f), readFileSync(f, 'utf8').split('\n').length - 1] as const).filter(([, n]) => n > 500);
    expect(long).toEqual([]);
  });
});
