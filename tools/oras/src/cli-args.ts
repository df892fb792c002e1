/** The CLI's flags, their parsed values and the small readers of them shared by every command. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { WasmFormat } from './pack';
/** A mistake in the command line: exit code 2 and a pointer to the usage. */
export class UsageError extends Error {}

export const OPTIONS = {
  'plain-http': { type: 'boolean' },
  format: { type: 'string', multiple: true },
  username: { type: 'string', short: 'u' },
  password: { type: 'string', short: 'p' },
  'password-stdin': { type: 'boolean' },
  'identity-token': { type: 'string' },
  'registry-config': { type: 'string' },
  'oci-layout': { type: 'boolean' },
  'from-oci-layout': { type: 'boolean' },
  'to-oci-layout': { type: 'boolean' },
  annotation: { type: 'string', short: 'a', multiple: true },
  'artifact-type': { type: 'string' },
  config: { type: 'string' },
  created: { type: 'string' },
  name: { type: 'string' },
  version: { type: 'string' },
  'root-id': { type: 'string', multiple: true },
  'abi-version': { type: 'string' },
  source: { type: 'string' },
  revision: { type: 'string' },
  description: { type: 'string' },
  output: { type: 'string', short: 'o' },
  descriptor: { type: 'boolean' },
  pretty: { type: 'boolean' },
  sha256: { type: 'string' },
  'chunk-size': { type: 'string' },
  'export-manifest': { type: 'string' },
  timeout: { type: 'string' },
  retries: { type: 'string' },
  debug: { type: 'boolean', short: 'd' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

export type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdin: () => string;
  env: NodeJS.ProcessEnv;
}

export const defaultIO: CliIO = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stdin: () => readFileSync(0, 'utf8'),
  env: process.env,
};

export function annotationsOf(v: Values): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of v.annotation ?? []) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new UsageError(`invalid annotation ${JSON.stringify(a)} (expected KEY=VALUE)`);
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

export function outputJson(v: Values): boolean {
  return (v.format ?? []).includes('json');
}

export function wasmFormat(v: Values): WasmFormat {
  const f = (v.format ?? []).filter((x) => x !== 'json' && x !== 'text');
  if (f.length > 1) throw new UsageError(`conflicting --format values: ${f.join(', ')}`);
  const x = f[0] ?? 'oci';
  if (x !== 'oci' && x !== 'compat') throw new UsageError(`--format must be oci, compat or json (got ${JSON.stringify(x)})`);
  return x;
}

export function splitFileType(arg: string): { file: string; type?: string } {
  // FILE:TYPE where TYPE looks like a media type (contains '/')
  const m = /^(.*?):([A-Za-z0-9][\w.+-]*\/[\w.+-]+)$/.exec(arg);
  return m ? { file: m[1], type: m[2] } : { file: arg };
}

export function need(args: string[], n: number, usage: string): void {
  if (args.length < n) throw new UsageError(`usage: ${usage}`);
}

export type Print = (text: string, json: unknown) => void;
