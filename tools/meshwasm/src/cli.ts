/**
 * meshwasm: one front door for the filter workflow. Each subcommand delegates to the tool that
 * already does the work: Nx (build, package, publish), the proxy-wasm host (run, serve),
 * tools/release (pins, packaging) and tools/validate (Istio and filter schemas).
 */
import { join } from 'node:path';
import { parse, str, strs } from './args';
import { CliError, failure, hostBin, processIo, runNx, runTool, usageError, workspaceRoot, Workspace, type Io } from './context';
import { initFilter } from './init';
import { lab } from './lab';
import { listFilters as listCommand } from './list';
import { serve } from './serve';
import { HELP, USAGE } from './usage';
import { wasmPlugin } from './wasmplugin';
import { normaliseRegistry } from '@meshwasm/release';

const COMMANDS = ['build', 'run', 'serve', 'push', 'wasmplugin', 'list', 'lab', 'init'];

async function build(ws: Workspace, args: string[]): Promise<number> {
  const p = parse('build', args, {}, 1);
  if (p.values.help) return help(ws.io, 'build');
  const f = ws.filter(p.positionals[0], 'build');
  const r = await runNx(ws, ['run', `${f.name}:build`]);
  if (r.code !== 0) throw failure(`building ${f.name} failed (nx run ${f.name}:build exited ${r.code}); the compiler's message is above`);
  ws.io.err(`built ${ws.rel(f.wasmPath)}\n`);
  return 0;
}

async function run(ws: Workspace, args: string[]): Promise<number> {
  if (args[0] === '--help' || args[0] === '-h') {
    help(ws.io, 'run');
    const usage = await captureHostUsage(ws);
    ws.io.out(usage);
    return 0;
  }
  let target = args[0];
  let rest = args.slice(1);
  if (target === undefined || target.startsWith('-')) {
    target = ws.filter(undefined, 'run').name;
    rest = args;
  }
  let wasm = target;
  const extra: string[] = [];
  if (!target.endsWith('.wasm')) {
    const f = ws.filter(target, 'run');
    const b = await runNx(ws, ['run', `${f.name}:build`], { stdoutToStderr: true });
    if (b.code !== 0) throw failure(`building ${f.name} failed (nx run ${f.name}:build exited ${b.code}); the compiler's message is above`);
    wasm = f.wasmPath;
    const hasConfig = rest.some((a) => a === '--config' || a.startsWith('--config='));
    if (!hasConfig) extra.push('--config', `@${join(f.dir, 'examples', 'lab.json')}`);
  }
  const r = await runTool(process.execPath, [hostBin(), 'run', wasm, ...extra, ...rest], { cwd: ws.io.cwd, env: ws.io.env });
  return r.code;
}

/** The host's own usage lines for `run` (so `meshwasm run --help` never drifts from the host). */
async function captureHostUsage(ws: Workspace): Promise<string> {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [hostBin(), '--help'], { encoding: 'utf8', cwd: ws.io.cwd, env: ws.io.env });
  const text = `${r.stdout}${r.stderr}`;
  const lines = text.split('\n');
  const out: string[] = [];
  let inRun = false;
  for (const l of lines) {
    if (/^\s*proxy-wasm-host run /.test(l)) inRun = true;
    else if (/^\s*proxy-wasm-host /.test(l)) inRun = false;
    if (inRun) out.push(l);
  }
  return out.length ? out.join('\n') + '\n' : text;
}

async function push(ws: Workspace, args: string[]): Promise<number> {
  const p = parse('push', args, { registry: { type: 'string' } }, 1);
  if (p.values.help) return help(ws.io, 'push');
  const f = ws.filter(p.positionals[0], 'push');
  const given = str(p, 'registry') ?? ws.io.env.WASM_REGISTRY;
  if (given === undefined || given.trim() === '') {
    throw usageError('WASM_REGISTRY is not set: export WASM_REGISTRY=host[:port]/path, or run meshwasm push --registry …');
  }
  let registry: string;
  try {
    registry = normaliseRegistry(given, str(p, 'registry') !== undefined ? '--registry' : 'WASM_REGISTRY');
  } catch (e) {
    throw usageError((e as Error).message);
  }
  const r = await runNx(ws, ['run', `${f.name}:publish`], { env: { WASM_REGISTRY: registry } });
  if (r.code !== 0) throw failure(`pushing ${f.name}@${f.version} to ${registry} failed: ${r.lastError ?? `nx run ${f.name}:publish exited ${r.code}; the reason is above`}`);
  return 0;
}

async function wasmplugin(ws: Workspace, args: string[]): Promise<number> {
  const p = parse(
    'wasmplugin',
    args,
    {
      config: { type: 'string' },
      selector: { type: 'string', multiple: true },
      'target-ref': { type: 'string', multiple: true },
      namespace: { type: 'string' },
      name: { type: 'string' },
      'fail-strategy': { type: 'string' },
      phase: { type: 'string' },
      priority: { type: 'string' },
      registry: { type: 'string' },
      kind: { type: 'string' },
      unpinned: { type: 'boolean' },
    },
    1,
  );
  if (p.values.help) return help(ws.io, 'wasmplugin');
  const f = ws.filter(p.positionals[0], 'wasmplugin');
  const out = wasmPlugin(f, {
    config: str(p, 'config'),
    selector: strs(p, 'selector'),
    targetRef: strs(p, 'target-ref'),
    namespace: str(p, 'namespace'),
    name: str(p, 'name'),
    failStrategy: str(p, 'fail-strategy'),
    phase: str(p, 'phase'),
    priority: str(p, 'priority'),
    registry: str(p, 'registry'),
    kind: str(p, 'kind'),
    unpinned: p.values.unpinned === true,
    cwd: ws.io.cwd,
  });
  for (const w of out.warnings) ws.io.err(`${w}\n`);
  ws.io.out(out.yaml);
  return 0;
}

function help(io: Io, cmd: string): number {
  io.out(`${HELP[cmd]}\n`);
  return 0;
}

async function dispatch(io: Io, argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    if (cmd === 'help' && rest[0] !== undefined) {
      if (!HELP[rest[0]]) throw usageError(`unknown command "${rest[0]}" (commands: ${COMMANDS.join(', ')})`);
      return help(io, rest[0]);
    }
    io.out(`${USAGE}\n`);
    return 0;
  }
  if (cmd === 'init') {
    const p = parse('init', rest, {}, 1);
    if (p.values.help) return help(io, 'init');
    const name = p.positionals[0];
    if (name === undefined) throw usageError('name the new filter: meshwasm init <name>, e.g. meshwasm init ratelimit');
    return initFilter(workspaceRoot(io.cwd), io, name);
  }
  if (!COMMANDS.includes(cmd)) throw usageError(`unknown command "${cmd}" (commands: ${COMMANDS.join(', ')}; meshwasm --help shows the usage)`);
  const ws = new Workspace(io);
  switch (cmd) {
    case 'build':
      return build(ws, rest);
    case 'run':
      return run(ws, rest);
    case 'serve': {
      const p = parse(
        'serve',
        rest,
        { 'envoy-config': { type: 'string', short: 'c' }, config: { type: 'string', multiple: true }, echo: { type: 'string' }, metadata: { type: 'string' }, 'no-build': { type: 'boolean' } },
        0,
      );
      if (p.values.help) return help(io, 'serve');
      return serve(ws, {
        envoyConfig: str(p, 'envoy-config'),
        overrides: strs(p, 'config'),
        echo: str(p, 'echo'),
        metadata: str(p, 'metadata'),
        build: p.values['no-build'] !== true,
      });
    }
    case 'push':
      return push(ws, rest);
    case 'wasmplugin':
      return wasmplugin(ws, rest);
    case 'lab': {
      const p = parse('lab', rest, { serve: { type: 'boolean' }, 'no-build': { type: 'boolean' } }, 1);
      if (p.values.help) return help(io, 'lab');
      return lab(ws, { lab: p.positionals[0], serve: p.values.serve === true, build: p.values['no-build'] !== true });
    }
    case 'list': {
      const p = parse('list', rest, { json: { type: 'boolean' }, rebuild: { type: 'boolean' } }, 0);
      if (p.values.help) return help(io, 'list');
      return listCommand(ws, { json: p.values.json === true, rebuild: p.values.rebuild === true });
    }
  }
  return 0;
}

/** Runs one command line; returns the exit code. Errors end as one line on stderr. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const cmd = argv[0] && COMMANDS.includes(argv[0]) ? `meshwasm ${argv[0]}` : 'meshwasm';
  try {
    return await dispatch(io, argv);
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`${cmd}: ${e.message}\n`);
      return e.code;
    }
    throw e;
  }
}
