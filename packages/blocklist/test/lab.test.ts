/**
 * The student-sized blocklist (dist/blocklist.lab.wasm) reads its one-valued "mode" with optChoice: any
 * other value is refused at configure time, naming the one value this version has.
 */
import { expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlugin } from '@meshwasm/proxy-wasm-host';
import { expectConfigRejected } from '@meshwasm/labs/jest';

const wasm = () => new Uint8Array(readFileSync(join(__dirname, '..', 'dist', 'blocklist.lab.wasm')));

test('the student version refuses a "mode" it does not have, naming the one it has', async () => {
  const lab = JSON.parse(readFileSync(join(__dirname, '..', 'examples', 'lab.json'), 'utf8')) as object;
  expect((await loadPlugin(wasm(), { config: lab, rootId: 'blocklist' })).configured).toBe(true);
  const p = await loadPlugin(wasm(), { config: { mode: 'allow', deny: ['*.example.com'] }, rootId: 'blocklist' });
  expectConfigRejected(p, /^config\.mode: expected "deny", got "allow"/);
});
