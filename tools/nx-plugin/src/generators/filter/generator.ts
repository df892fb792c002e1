/**
 * `npx nx g @meshwasm/nx-plugin:filter <name>` (and `meshwasm init <name>`, which runs this same
 * function on the file system): a new filter package, packages/<name>, that passes its own
 * targets straight away, and the changeset that releases it for the first time.
 */
import { existsSync, lstatSync, realpathSync } from 'node:fs';
import { join, relative } from 'node:path';
import { getProjects, type Tree } from '@nx/devkit';
import { changeset, filterFiles } from './files';
import { filterNameProblem } from './name';

export interface FilterGeneratorSchema {
  name: string;
}

/** A refused name: one line, no stack (the CLI exits 2 with it). */
export class FilterNameError extends Error {}

/** Whether node_modules/<name> is an installed package (a link into the workspace is a workspace package). */
function installedOutsideWorkspace(root: string, name: string): boolean {
  const p = join(root, 'node_modules', name);
  if (!existsSync(p)) return false;
  if (!lstatSync(p).isSymbolicLink()) return true;
  const inside = relative(root, realpathSync(p));
  return inside.startsWith('..') || inside.startsWith('node_modules');
}

/** Checks the name against the workspace in `tree`; throws a FilterNameError with the reason. */
export function checkFilterName(tree: Tree, name: string): void {
  const problem = filterNameProblem(name, {
    projects: [...getProjects(tree).keys()],
    folderExists: (n) => tree.exists(`packages/${n}`),
    installed: (n) => installedOutsideWorkspace(tree.root, n),
  });
  if (problem) throw new FilterNameError(problem);
}

/** What to do next, printed once the files are written. */
export function nextSteps(name: string): string[] {
  return [
    `created packages/${name} and .changeset/${name}-first-release.md`,
    `next: run \`npm install\` at the repository root: a new workspace package changes package-lock.json,`,
    `      and \`npm ci\` refuses a lockfile without it; commit package-lock.json with the new package`,
    `then: npx nx run-many -t build test validate typecheck lint -p ${name}`,
    `      (edit assembly/index.ts, and the changeset's text, to make the filter yours)`,
  ];
}

/** Writes packages/<name> and its first changeset into `tree`. */
export function writeFilter(tree: Tree, schema: FilterGeneratorSchema): void {
  const name = (schema.name ?? '').trim();
  checkFilterName(tree, name);
  for (const [file, text] of Object.entries(filterFiles(name))) tree.write(`packages/${name}/${file}`, text);
  tree.write(`.changeset/${name}-first-release.md`, changeset(name));
}

export default function filterGenerator(tree: Tree, schema: FilterGeneratorSchema): () => void {
  writeFilter(tree, schema);
  return () => {
    for (const line of nextSteps(schema.name.trim())) console.log(line);
  };
}
