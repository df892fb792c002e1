// Shared jest settings: @swc/jest transpiles TypeScript (no type-checking; the
// `typecheck` target runs tsc separately), tests run in plain Node.
const { join } = require('node:path');

/** @type {import('jest').Config} */
module.exports = {
  reporters: ['default', join(__dirname, 'scripts', 'jest-summary-reporter.cjs')],
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'cjs', 'json'],
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/src/**/*.test.ts'],
  clearMocks: true,
  testTimeout: 30000,
};
