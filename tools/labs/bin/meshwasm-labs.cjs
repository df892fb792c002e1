#!/usr/bin/env node
'use strict';
// CJS shim: register tsx's CommonJS loader, then run the TypeScript CLI.
require('tsx/cjs');
const { main } = require('../src/cli.ts');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`meshwasm-labs: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
