#!/usr/bin/env node
'use strict';
// CJS shim: register tsx's CommonJS loader, then run the TypeScript CLI.
// npx runs a workspace bin from the nearest package.json folder; paths the user typed are
// relative to where the command was typed (INIT_CWD), so go back there.
const typedIn = process.env.INIT_CWD;
if (typedIn && typedIn !== process.cwd() && typedIn.startsWith(process.cwd() + require('node:path').sep)) process.chdir(typedIn);
require('tsx/cjs');
const { main } = require('../src/cli.ts');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`Error: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
