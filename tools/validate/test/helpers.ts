import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Issue } from '../src/issues';

export const FIXTURES = join(__dirname, 'fixtures');

/** A throwaway copy of a fixture directory, named `name` (the filter name is the dir name). */
export function copyFixture(fixture: string, name = fixture): { dir: string; root: string; edit(file: string, from: string | RegExp, to: string): void; write(file: string, text: string): void; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), 'meshwasm-validate-'));
  const dir = join(root, name);
  cpSync(join(FIXTURES, fixture), dir, { recursive: true });
  return {
    dir,
    root,
    edit(file, from, to) {
      const p = join(dir, file);
      const before = readFileSync(p, 'utf8');
      const after = before.replace(from, to);
      if (after === before) throw new Error(`fixture edit did not apply: ${String(from)} in ${file}`);
      writeFileSync(p, after);
    },
    write(file, text) {
      writeFileSync(join(dir, file), text);
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export function fixtureYaml(file: string): unknown {
  return parse(readFileSync(join(FIXTURES, file), 'utf8'));
}

export function errors(issues: Issue[]): Issue[] {
  return issues.filter((i) => i.severity === 'error');
}

/** The messages of the errors, each prefixed with its dotted path, for readable assertions. */
export function errorTexts(issues: Issue[]): string[] {
  return errors(issues).map((i) => `${i.path.join('.')}: ${i.message}`);
}
