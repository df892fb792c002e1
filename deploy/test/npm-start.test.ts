/**
 * `npm start` (scripts/start.ts) serves deploy/envoy/envoy.yaml: how it ends. SIGTERM to the npm
 * process alone (npm passes it to its shell only, which dies without passing it on) and Ctrl-C
 * (SIGINT to the whole process group) both close every port; a port in use ends it with one last
 * line saying which and what to do. Ports are ephemeral (--*-port 0); the waits are guards for
 * "it never stops", not speed goals.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { join } from 'node:path';
import {
  allClosed, accepts, exitWithin, holdPort, killGroup, lastLine, portOf, startGroup, waitFor, type Run,
} from '@meshwasm/proxy-wasm-host/testing/processes';

const root = join(__dirname, '..', '..');
const started: Run[] = [];
afterAll(() => { for (const r of started) killGroup(r); });

function npmStart(ports: { listen?: number; echo?: number; metadata?: number; admin?: number } = {}): Run {
  const r = startGroup('npm', ['start', '--', '--listen-port', String(ports.listen ?? 0), '--echo-port', String(ports.echo ?? 0),
    '--metadata-port', String(ports.metadata ?? 0), '--admin-port', String(ports.admin ?? 0)], root);
  started.push(r);
  return r;
}

/** Waits for "serving until Ctrl-C"; the four ports it printed. */
async function serving(r: Run): Promise<number[]> {
  await waitFor(r, /serving until Ctrl-C/, 300_000);
  const m = /listener http:\/\/127\.0\.0\.1:(\d+) .* echo upstream http:\/\/127\.0\.0\.1:(\d+) .* metadata service http:\/\/127\.0\.0\.1:(\d+) .* admin http:\/\/127\.0\.0\.1:(\d+)/.exec(r.out());
  expect(m).not.toBeNull();
  const ports = m!.slice(1).map(Number);
  expect(await Promise.all(ports.map(accepts))).toEqual([true, true, true, true]);
  return ports;
}

describe('npm start stops every server', () => {
  test('SIGTERM to the npm process alone', async () => {
    const r = npmStart();
    const ports = await serving(r);
    process.kill(r.child.pid!, 'SIGTERM');
    expect(await allClosed(ports, 30_000)).toBe(true);
    expect(r.out()).toMatch(/stopping \(its parent process \d+ exited\)/);
  }, 400_000);

  test('Ctrl-C (SIGINT to the process group)', async () => {
    const r = npmStart();
    const ports = await serving(r);
    process.kill(-r.child.pid!, 'SIGINT');
    expect(await allClosed(ports, 30_000)).toBe(true);
    expect(await exitWithin(r, 30_000)).not.toBe('still running');
    expect(r.out()).toContain('stopping (SIGINT)');
  }, 400_000);

  test('a port in use: exit 1, the last line names the port and the flag that moves it', async () => {
    const held = await holdPort();
    try {
      const r = npmStart({ echo: portOf(held) });
      const exit = await exitWithin(r, 300_000);
      expect(exit).toEqual({ code: 1, signal: null });
      expect(lastLine(r.out())).toBe(`✗ the echo upstream cannot listen on 127.0.0.1:${portOf(held)}: the port is in use (another npm start?): stop what holds it, or npm start -- --echo-port N (0 = any free port)`);
    } finally { held.close(); }
  }, 400_000);
});
