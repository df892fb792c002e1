#!/usr/bin/env node
'use strict';
// Workspace bin: registers tsx so the TypeScript CLI runs on Node 20 without a build step.
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
    process.stderr.write(`meshwasm: internal error: ${err && err.stack ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
