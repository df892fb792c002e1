/** Flag parsing on node:util parseArgs, with its errors turned into one line that names the flag. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from './context';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
}

export function parse(cmd: string, args: string[], options: Options, maxPositionals: number): Parsed {
  let r: Parsed;
  try {
    r = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, allowPositionals: true, strict: true }) as Parsed;
  } catch (e) {
    const err = e as Error & { code?: string };
    const m = /Unknown option '([^']+)'/.exec(err.message);
    if (m) throw usageError(`unknown option ${m[1]} (meshwasm ${cmd} --help lists the options)`);
    const v = /Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument missing/.exec(err.message);
    if (v) throw usageError(`${v[1]} needs a value`);
    const a = /Option '(?:-\w, )?(--[\w-]+)' argument is ambiguous/.exec(err.message);
    if (a) throw usageError(`${a[1]}: a value that starts with "-" is written ${a[1]}=VALUE (e.g. ${a[1]}=-1)`);
    const b = /Option '(?:-\w, )?(--[\w-]+)' does not take an argument/.exec(err.message);
    if (b) throw usageError(`${b[1]} takes no value`);
    throw usageError(err.message.split('\n')[0]);
  }
  if (!r.values.help && r.positionals.length > maxPositionals) {
    throw usageError(`unexpected argument "${r.positionals[maxPositionals]}" (meshwasm ${cmd} --help shows the usage)`);
  }
  return r;
}

export const str = (p: Parsed, k: string): string | undefined => p.values[k] as string | undefined;
export const strs = (p: Parsed, k: string): string[] => (p.values[k] as string[] | undefined) ?? [];
