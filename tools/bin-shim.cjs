'use strict';
// The one start-up of every workspace CLI (meshwasm, meshwasm-labs, meshwasm-oras,
// proxy-wasm-host): run the TypeScript CLI on Node 20 without a build step, from the folder the
// command was typed in.
const { existsSync } = require('node:fs');
const { dirname, join } = require('node:path');

/** The nearest folder at or above `dir` that has a package.json. */
function packageFolder(dir) {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (dirname(d) === d) return null;
  }
}

/**
 * npx (npm exec) runs a workspace bin from the nearest package.json folder above where the
 * command was typed (INIT_CWD); the paths the user typed are relative to INIT_CWD, so go back
 * there. Only in exactly that case: a bin spawned by a test or a script keeps its own folder.
 */
function returnToTypedFolder() {
  const typedIn = process.env.INIT_CWD;
  if (process.env.npm_command !== 'exec' || !typedIn || typedIn === process.cwd()) return;
  if (packageFolder(typedIn) === process.cwd()) process.chdir(typedIn);
}

/**
 * Runs `cliPath` (a .ts file exporting `main(argv) => Promise<exit code>`), or only loads it when
 * it runs itself (`main` absent). An unexpected error ends with one line naming `name`.
 */
function runCli(cliPath, name) {
  returnToTypedFolder();
  require('tsx/cjs');
  const { main } = require(cliPath);
  if (typeof main !== 'function') return;
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`${name}: ${err && err.message ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

module.exports = { runCli };
