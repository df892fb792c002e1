// The built-in loopback services survive clients that go away in the middle of a request body.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { connect } from 'node:net';
import { request } from 'node:http';
import { startMetadataService, type RunningServer } from '../src/servers';

let meta: RunningServer;
const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => { unhandled.push(e); };

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  meta = await startMetadataService({ port: 0 });
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await meta?.close();
});

/** Sends the head of a POST announcing 100 bytes, 3 of them, then drops the connection. */
function abortMidBody(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.write('POST /json HTTP/1.1\r\nhost: metadata\r\ncontent-length: 100\r\n\r\nabc', () => setTimeout(() => { sock.destroy(); resolve(); }, 50));
    });
    sock.on('error', reject);
  });
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); }).on('error', reject).end();
  });
}

test('metadata service: a client aborting mid-body is no unhandled rejection, and the service keeps answering', async () => {
  await abortMidBody(meta.port);
  // Give the server's 'aborted' error the time to surface (it did as an unhandled rejection before the fix).
  await new Promise((r) => setTimeout(r, 200));
  expect(unhandled.map(String)).toEqual([]);
  expect(await get(meta.port, '/status/204')).toBe(204);
});
