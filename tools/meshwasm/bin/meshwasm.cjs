#!/usr/bin/env node
'use strict';
// Workspace bin: registers tsx so the TypeScript CLI runs on Node 20 without a build step.
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
