/**
 * `meshwasm init <name>`: a new filter package, packages/<name>, written by the Nx generator's own
 * code (`nx g @meshwasm/nx-plugin:filter <name>` writes the very same files).
 */
import { FsTree, flushChanges } from 'nx/src/generators/tree';
import { FilterNameError, nextSteps, writeFilter } from '@meshwasm/nx-plugin/generators/filter';
import { usageError, type Io } from './context';

/** Writes the filter into the workspace at `root`; a refused name is one line and exit 2. */
export function initFilter(root: string, io: Io, name: string): number {
  const tree = new FsTree(root, false);
  try {
    writeFilter(tree, { name });
  } catch (e) {
    if (e instanceof FilterNameError) throw usageError(e.message);
    throw e;
  }
  const changes = tree.listChanges();
  flushChanges(root, changes);
  for (const c of changes) io.out(`create ${c.path}\n`);
  for (const line of nextSteps(name)) io.out(`${line}\n`);
  return 0;
}
