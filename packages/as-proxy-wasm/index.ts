// AssemblyScript resolves `import ... from "as-proxy-wasm"` to this file
// (asc looks for <package>/index.ts; it does not read `ascMain`).
export * from "./assembly/index";
