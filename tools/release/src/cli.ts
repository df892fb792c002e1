/**
 * meshwasm release CLI (run with tsx). Exit codes: 0 ok, 1 error, 2 usage error.
 *
 *   package [DIR] [--format oci|compat] [--out DIR] [--json]   nx target `package`
 *   publish [DIR] [--registry R] [--force] [--json]            nx target `publish`
 *   changeset-check [DIR] [--base REF] [--json]                nx target `changeset-check`
 *   version                                                    npm run release:version
 *   publish-all [--no-tag]                                     npm run release:publish
 *   pin [NAME…]                                                package + pin manifests, no version bump
 *   verify-pins [--json]                                       rebuild each release commit cleanly, compare the pins
 *
 * DIR defaults to the current directory (the filter's root when run by nx).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { packageFilter, publishFilter } from './artifact';
import { changesetCheck } from './check';
import { pinFilters, releasePublish, releaseVersion } from './release';
import { verifyPinnedDigests } from './verify';
import { findWorkspaceRoot, listFilters } from './workspace';

const USAGE = `usage: release <command> [options]
  package [DIR] [--format oci|compat] [--out DIR] [--json]
  publish [DIR] [--registry REGISTRY/NAMESPACE] [--force] [--json]
  changeset-check [DIR] [--base REF] [--json]
  version
  publish-all [--no-tag]
  pin [NAME...]
  verify-pins [--json]
Environment: WASM_REGISTRY (publish, publish-all; url prefix for version/pin), CHANGESET_CHECK_BASE.`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help') {
    console.log(USAGE);
    return cmd ? 0 : 2;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        format: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean' },
        registry: { type: 'string' },
        force: { type: 'boolean' },
        base: { type: 'string' },
        'no-tag': { type: 'boolean' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const cwd = process.cwd();
  const root = findWorkspaceRoot(cwd);
  const dir = resolve(cwd, positionals[0] ?? '.');
  switch (cmd) {
    case 'package': {
      if (values.format !== undefined && values.format !== 'oci' && values.format !== 'compat') throw new UsageError(`--format must be oci or compat, not ${values.format}`);
      const r = await packageFilter(root, dir, { format: values.format as 'oci' | 'compat' | undefined, outDir: values.out });
      for (const w of r.warnings) console.error(`warning: ${w}`);
      if (values.json) console.log(JSON.stringify(r));
      else {
        console.log(`packaged ${r.name}@${r.version} (${r.format}) -> ${r.layoutDir}`);
        console.log(`  WasmPlugin sha256 (oci://): ${r.digest.slice(7)}`);
        console.log(`  wasm sha256: ${r.wasmDigest.slice(7)}  created: ${r.created}`);
      }
      return 0;
    }
    case 'publish': {
      const r = await publishFilter(root, dir, {
        registry: values.registry ?? process.env.WASM_REGISTRY ?? '',
        force: values.force,
        log: values.json ? () => {} : undefined,
      });
      if (values.json) console.log(JSON.stringify(r));
      return 0;
    }
    case 'changeset-check': {
      const r = await changesetCheck(root, dir, { base: values.base });
      if (values.json) console.log(JSON.stringify(r));
      else (r.ok ? console.log : console.error)(r.message);
      return r.ok ? 0 : 1;
    }
    case 'version':
      await releaseVersion({ workspaceRoot: root });
      return 0;
    case 'publish-all':
      await releasePublish({ workspaceRoot: root, tag: !values['no-tag'] });
      return 0;
    case 'pin': {
      const all = listFilters(root);
      const want = positionals.length ? positionals : all.map((f) => f.name);
      const unknown = want.filter((n) => !all.some((f) => f.name === n));
      if (unknown.length) throw new UsageError(`unknown filter(s): ${unknown.join(', ')} (filters: ${all.map((f) => f.name).join(', ')})`);
      pinFilters({ workspaceRoot: root, filters: all.filter((f) => want.includes(f.name)) });
      return 0;
    }
    case 'verify-pins': {
      const r = verifyPinnedDigests(root, { log: values.json ? () => {} : undefined });
      const problems = [...r.filters, ...r.unreleased].flatMap((f) => f.problems);
      if (values.json) console.log(JSON.stringify({ filters: r.filters, unreleased: r.unreleased }));
      for (const p of problems) console.error(`error: ${p}`);
      if (!values.json && problems.length === 0) console.log(`every pinned sha256 is the digest its release commit builds (${r.filters.length} filter(s))`);
      return problems.length === 0 ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    if (err instanceof UsageError) {
      console.error(`error: ${err.message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(`error: ${err.message}`);
    process.exit(1);
  },
);
