#!/usr/bin/env node
// Workspace bin: registers tsx so the TypeScript CLI runs on Node 20 without a build step.
require('tsx/cjs');
require('../src/cli.ts');
