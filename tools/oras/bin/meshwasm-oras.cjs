#!/usr/bin/env node
'use strict';
require('../../bin-shim.cjs').runCli(require('node:path').join(__dirname, '..', 'src', 'cli.ts'), 'meshwasm-oras');
