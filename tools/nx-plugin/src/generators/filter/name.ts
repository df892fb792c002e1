/**
 * Which names a new filter may have. The name is at once the npm package name, the folder
 * `packages/<name>`, the Nx project, the OCI repository (`<registry>/<name>:<version>`), the
 * WasmPlugin's pluginName and Envoy's root_id, so it must be valid as all of them.
 */
import { builtinModules } from 'node:module';

/** Lowercase letters and digits in words joined by single hyphens, starting with a letter. */
export const FILTER_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
export const MAX_NAME_LENGTH = 40;

/** Names a filter may not take even when no folder has them (they mean something else here). */
export const RESERVED_NAMES = ['node_modules', 'favicon.ico', 'dist', 'build', 'test', 'src', 'assembly', 'examples', 'packages', 'tools', 'lab', 'all', 'main', 'filter', 'nx', 'npm'];

export interface NameContext {
  /** Nx project names of the workspace (packages, tools, bench, …). */
  projects: string[];
  /** Whether `packages/<name>` exists already. */
  folderExists: (name: string) => boolean;
  /** Whether an installed package of this name (node_modules/<name>) exists that is not a workspace package. */
  installed: (name: string) => boolean;
}

/** Why `name` cannot be a new filter (one line), or null when it can. */
export function filterNameProblem(name: string, ctx: NameContext): string | null {
  const shown = JSON.stringify(name);
  if (name === '') return 'a filter needs a name, e.g. ratelimit';
  if (name.length > MAX_NAME_LENGTH) return `${shown} is too long: at most ${MAX_NAME_LENGTH} characters`;
  if (!FILTER_NAME.test(name)) {
    const hint = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^[^a-z]+|-+$/g, '');
    return `${shown} is not a valid filter name: use lowercase letters, digits and single hyphens, starting with a letter (it is the npm package, the OCI repository and Envoy's root_id)${hint && FILTER_NAME.test(hint) ? `; e.g. ${hint}` : ''}`;
  }
  if (ctx.folderExists(name)) return `packages/${name} already exists: choose another name, or edit that filter`;
  if (ctx.projects.includes(name)) return `${shown} is already the name of a project of this workspace: choose another name`;
  if (RESERVED_NAMES.includes(name)) return `${shown} is reserved (it names a folder or a tool here): choose another name`;
  if (builtinModules.includes(name)) return `${shown} is a Node.js built-in module, which npm refuses as a package name: choose another name`;
  if (ctx.installed(name)) return `${shown} is an installed npm package (node_modules/${name}); a workspace package of that name would replace it: choose another name`;
  return null;
}

/** `rate-limit` -> `RateLimit`: the prefix of the generated AssemblyScript classes. */
export function className(name: string): string {
  return name
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}
