// ESLint flat config for the whole workspace (ESLint 9, typescript-eslint 8).
//
// Every Nx project with a tsconfig.json gets an inferred `lint` target
// (tools/nx-plugin/src/lint.ts) that runs `eslint .` in the project's folder; ESLint finds this
// file by walking up. `npx nx run-many -t lint` lints everything, `npx nx affected -t lint` what a
// change touches.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: [
      // Build output and caches.
      '**/dist/**',
      '**/build/**',
      '**/coverage/**',
      '.nx/**',
      'bench/.work/**',
      'tmp/**',
      // AssemblyScript, not TypeScript, although the files end in .ts: asc compiles them to wasm
      // and type-checks them when it builds. They use AS's value types (i32, u32, usize, f64),
      // decorators TypeScript has no notion of (@inline, @unmanaged, @external, @global), and
      // AS built-ins (changetype, load<T>, store<T>, operator overloads) that typescript-eslint
      // cannot resolve, so it would flag AS's own idioms and could not type them at all.
      'packages/*/assembly/**',
      'packages/as-proxy-wasm/index.ts', // re-exports assembly/ for asc
      'packages/*/test/fixtures/**', // test filters compiled by asc
      'packages/as-proxy-wasm/test/broken/**', // a filter that must fail to compile (hook-exports test)
      'tools/proxy-wasm-host/test/fixtures/**', // test filters compiled by asc
      'packages/as-proxy-wasm/bench/peer/**', // the @gcoredev peer filters the benchmark builds
      'docs/course/solutions/**', // the course exercises' solutions, compiled by asc in their test
    ],
  },
  {
    // A one-line exception is `// eslint-disable-next-line <rule> -- <reason>` (see
    // tools/validate/src/protojson.ts); a directive that no longer suppresses anything is an error.
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        // Type information from the nearest tsconfig.json. A .ts file that no tsconfig includes
        // is a lint error ("was not found by the project service"): it would not be type-checked
        // by the `typecheck` target either.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Type-aware, on purpose: the tools are servers, proxies and CLIs, and the tests drive them
      // asynchronously. A promise nobody awaits or catches is a test that passes before its
      // assertions run, or (Node >= 15) an unhandled rejection that kills a server.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    rules: {
      // `_name` marks a deliberately unused binding: a parameter an interface or the proxy-wasm
      // ABI imposes, or a property left out of an object by destructuring.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // The wasm hosts bind `let mem!: WebAssembly.Memory` before the import closures that read
      // it and assign it once after instantiation: it cannot be a const at its declaration.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // The hosts' import tables are objects of method-shorthand functions named after the ABI
      // calls, where `this` is the table; `h` is the host they act on.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['h'] }],
    },
  },
  {
    files: ['**/test/**/*.ts', '**/bench/**/*.ts'],
    rules: {
      // Tests and benchmarks reach into parsed YAML/JSON documents and into wasm exports, whose
      // shapes are dynamic (the tests' assertions are what check them). `any` and `Function` keep
      // that code short; sources (src/) get no such allowance.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-function-type': 'off',
    },
  },
  {
    files: ['**/*.{js,cjs,mjs}'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: {
      // CommonJS files (the bins, the jest preset and reporter) load modules with require().
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
);
