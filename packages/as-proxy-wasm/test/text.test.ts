// assembly/text.ts is generated from scripts/gen-text.mjs: it must be up to date.
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PKG } from './helpers';

describe('generated message table', () => {
  it('assembly/text.ts matches scripts/gen-text.mjs', () => {
    let out = 'ok';
    try { execFileSync(process.execPath, [join(PKG, 'scripts', 'gen-text.mjs'), '--check'], { stdio: 'pipe' }); } catch (e) { out = String((e as { stderr: Buffer }).stderr); }
    expect(out).toBe('ok');
  });
});
