'use strict';
// The one start-up of every workspace CLI (meshwasm, meshwasm-labs, meshwasm-oras,
// proxy-wasm-host): run the TypeScript CLI on Node 20 without a build step, from the folder the
// command was typed in.
const { sep } = require('node:path');

/** npx runs a workspace bin from the nearest package.json folder; the paths the user typed are
 *  relative to where the command was typed (INIT_CWD), so go back there. */
function returnToTypedFolder() {
  const typedIn = process.env.INIT_CWD;
  if (typedIn && typedIn !== process.cwd() && typedIn.startsWith(process.cwd() + sep)) process.chdir(typedIn);
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
