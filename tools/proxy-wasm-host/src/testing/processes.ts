// Helpers for tests that start processes and servers: ports held, ports closed, process groups.
// Every port is ephemeral: other runs share the machine. Waits are bounded guards, not speed goals.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Server } from 'node:net';

/** A port held by this test process (so a listener on it fails with EADDRINUSE). */
export function holdPort(): Promise<Server> {
  return new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => resolve(s)); });
}
export const portOf = (s: Server) => (s.address() as { port: number }).port;

/** Whether something accepts connections on 127.0.0.1:port. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

/** Waits until no listed port accepts connections; false when some still does after `ms`. */
export async function allClosed(ports: number[], ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    const open = await Promise.all(ports.map(accepts));
    if (!open.some(Boolean)) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface Run { child: ChildProcess; out: () => string; exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }
/** Starts a command in its own process group (so a test can clean up whatever it leaves, and send it a Ctrl-C: SIGINT to -pid). */
export function startGroup(cmd: string, args: string[], cwd: string): Run {
  const child = spawn(cmd, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NX_TUI: 'false' } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, out: () => out, exit };
}
export function killGroup(r: Run): void { try { process.kill(-r.child.pid!, 'SIGKILL'); } catch { /* already gone */ } }

/** Waits for `re` in the output; fails (with the output so far) after `ms`. */
export async function waitFor(r: Run, re: RegExp, ms: number): Promise<RegExpExecArray> {
  const until = Date.now() + ms;
  for (;;) {
    const m = re.exec(r.out());
    if (m) return m;
    if (Date.now() > until) throw new Error(`no ${re} within ${ms} ms; output:\n${r.out()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Exit of a run, or 'still running' after `ms`. */
export function exitWithin(r: Run, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'still running'> {
  return Promise.race([r.exit, new Promise<'still running'>((res) => setTimeout(() => res('still running'), ms).unref())]);
}
export const lastLine = (s: string) => s.trimEnd().split('\n').pop();

