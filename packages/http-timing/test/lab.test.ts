/**
 * The student-sized http-timing (dist/http-timing.lab.wasm) reads its one-valued "metricStyle" with optChoice: any
 * other value is refused at configure time, naming the one value this version has.
 */
import { expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlugin } from '@meshwasm/proxy-wasm-host';
import { expectConfigRejected } from '@meshwasm/labs/jest';

const wasm = () => new Uint8Array(readFileSync(join(__dirname, '..', 'dist', 'http-timing.lab.wasm')));

test('the student version refuses a "metricStyle" it does not have, naming the one it has', async () => {
  const lab = JSON.parse(readFileSync(join(__dirname, '..', 'examples', 'lab.json'), 'utf8')) as object;
  expect((await loadPlugin(wasm(), { config: lab, rootId: 'http-timing' })).configured).toBe(true);
  const p = await loadPlugin(wasm(), { config: { metricStyle: 'labels' }, rootId: 'http-timing' });
  expectConfigRejected(p, /^config\.metricStyle: expected "flat", got "labels"/);
});
