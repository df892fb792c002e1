import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerConfig, TokenCache, parseWwwAuthenticate, validateRealm } from '../src/auth';
import { Secrets } from '../src/secrets';
import { mergeScopes } from '../src/registry';

const tmp = mkdtempSync(join(tmpdir(), 'oras-auth-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('WWW-Authenticate', () => {
  it('parses Bearer with quoted commas and several scopes, and multiple challenges', () => {
    const c = parseWwwAuthenticate(
      'Bearer realm="http://127.0.0.1:5001/token",service="reg, test",scope="repository:a/b:pull repository:a/b:push repository:c/d:pull", Basic realm="basic-realm"',
    );
    expect(c).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'http://127.0.0.1:5001/token',
          service: 'reg, test',
          scope: 'repository:a/b:pull repository:a/b:push repository:c/d:pull',
        },
      },
      { scheme: 'basic', params: { realm: 'basic-realm' } },
    ]);
    expect(parseWwwAuthenticate('Basic realm=x')).toEqual([{ scheme: 'basic', params: { realm: 'x' } }]);
  });

  it('merges scope actions per repository', () => {
    expect(mergeScopes(['repository:a/b:pull repository:a/b:push', 'repository:c/d:pull', 'repository:a/b:pull'])).toEqual([
      'repository:a/b:pull,push',
      'repository:c/d:pull',
    ]);
  });

  it('caches a token per merged scope set until 5 s before it expires (10 s at least)', () => {
    const now = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    try {
      const cache = new TokenCache();
      cache.set(['repository:a/b:push', 'repository:a/b:pull'], 'tok-ab', 60);
      expect(cache.get(['repository:a/b:pull,push'])).toBe('tok-ab');
      expect(cache.get(['repository:a/b:pull'])).toBeUndefined();
      now.mockReturnValue(1_000_000 + 54_999);
      expect(cache.get(['repository:a/b:pull repository:a/b:push'])).toBe('tok-ab');
      now.mockReturnValue(1_000_000 + 55_000);
      expect(cache.get(['repository:a/b:pull,push'])).toBeUndefined();
      expect(cache.has(['repository:a/b:pull,push'])).toBe(true);
      cache.set(['repository:c:pull'], 'tok-c', 1);
      now.mockReturnValue(1_000_000 + 55_000 + 4_999);
      expect(cache.get(['repository:c:pull'])).toBe('tok-c');
      cache.delete(['repository:c:pull']);
      expect(cache.has(['repository:c:pull'])).toBe(false);
    } finally {
      now.mockRestore();
    }
  });

  it('scrubs every secret of a credential, the Basic blob included', () => {
    const s = new Secrets();
    s.addCredential({ username: 'alice', password: 'pa55word' });
    s.add('tok-123');
    const basic = Buffer.from('alice:pa55word').toString('base64');
    expect(s.scrub(`pa55word ${basic} tok-123 alice`)).toBe('*** *** *** alice');
  });

  it('rejects unsafe bearer realms like oras-go', () => {
    const https = new URL('https://ghcr.io');
    expect(validateRealm('https://ghcr.io/token', https).host).toBe('ghcr.io');
    expect(() => validateRealm('http://ghcr.io/token', https)).toThrow(/downgrade/);
    expect(() => validateRealm('file:///etc/passwd', https)).toThrow(/scheme/);
    expect(() => validateRealm('basic-realm', https)).toThrow(/not a URL/);
    expect(() => validateRealm('https://169.254.169.254/latest', https)).toThrow(/private or loopback/);
    expect(() => validateRealm('http://127.0.0.1:9/token', new URL('http://127.0.0.1:5000'))).not.toThrow();
    expect(() => validateRealm('http://127.0.0.1:9/token', new URL('http://10.0.0.1:5000'))).toThrow(/private or loopback/);
  });
});

describe('docker config credentials', () => {
  const bin = join(tmp, 'bin');
  mkdirSync(bin);
  // Fake credential helpers: "fake" knows one host; "broken" fails.
  const store = join(tmp, 'helper-store.json');
  writeFileSync(
    join(bin, 'docker-credential-fake'),
    `#!/usr/bin/env node
const fs = require('fs');
const verb = process.argv[2];
const input = fs.readFileSync(0, 'utf8').trim();
const file = ${JSON.stringify(store)};
const db = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
if (verb === 'get') {
  if (input === 'helped.example') { process.stdout.write(JSON.stringify({ ServerURL: input, Username: 'hu', Secret: 'helper-secret' })); process.exit(0); }
  if (input === 'tok.example') { process.stdout.write(JSON.stringify({ ServerURL: input, Username: '<token>', Secret: 'refresh-tok' })); process.exit(0); }
  if (db[input]) { process.stdout.write(JSON.stringify(db[input])); process.exit(0); }
  process.stdout.write('credentials not found in native keychain'); process.exit(1);
}
if (verb === 'store') { const v = JSON.parse(input); db[v.ServerURL] = v; fs.writeFileSync(file, JSON.stringify(db)); process.exit(0); }
if (verb === 'erase') { delete db[input]; fs.writeFileSync(file, JSON.stringify(db)); process.exit(0); }
process.exit(2);
`,
  );
  writeFileSync(join(bin, 'docker-credential-broken'), '#!/bin/sh\necho "leaked-secret-value" >&2\nexit 3\n');
  chmodSync(join(bin, 'docker-credential-fake'), 0o755);
  chmodSync(join(bin, 'docker-credential-broken'), 0o755);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };

  it('reads auths (incl. legacy URL keys), then prefers credHelpers', () => {
    const dir = join(tmp, 'c1');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        auths: {
          'plain.example': { auth: Buffer.from('alice:pw:with:colons').toString('base64') },
          'https://legacy.example/v1/': { auth: Buffer.from('bob:pw2').toString('base64') },
          'helped.example': { auth: Buffer.from('ignored:ignored').toString('base64') },
          'id.example': { identitytoken: 'idtok' },
        },
        credHelpers: { 'helped.example': 'fake', 'tok.example': 'fake' },
      }),
    );
    const c = new DockerConfig(dir, env);
    expect(c.get('plain.example')).toEqual({ username: 'alice', password: 'pw:with:colons' });
    expect(c.get('legacy.example')).toEqual({ username: 'bob', password: 'pw2' });
    expect(c.get('helped.example')).toEqual({ username: 'hu', password: 'helper-secret' });
    expect(c.get('tok.example')).toEqual({ identityToken: 'refresh-tok' });
    expect(c.get('id.example')).toEqual({ identityToken: 'idtok' });
    expect(c.get('unknown.example')).toBeUndefined();
  });

  it('uses credsStore for store/get/erase and never echoes helper output in errors', () => {
    const dir = join(tmp, 'c2');
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ credsStore: 'fake', credHelpers: { 'bad.example': 'broken' } }));
    const c = new DockerConfig(dir, env);
    expect(c.get('reg.example')).toBeUndefined();
    expect(c.store('reg.example', { username: 'u', password: 'stored-secret' }).where).toBe('docker-credential-fake');
    expect(c.get('reg.example')).toEqual({ username: 'u', password: 'stored-secret' });
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).not.toContain('stored-secret');
    expect(c.erase('reg.example')).toBe(true);
    expect(c.get('reg.example')).toBeUndefined();
    let msg = '';
    try {
      c.get('bad.example');
    } catch (err) {
      msg = (err as Error).message;
    }
    expect(msg).toMatch(/docker-credential-broken get: exit status 3/);
    expect(msg).not.toContain('leaked-secret-value');
  });

  it('stores base64 auths without a helper and removes them on logout', () => {
    const dir = join(tmp, 'c3');
    const c = new DockerConfig(dir, env);
    c.store('127.0.0.1:5000', { username: 'u', password: 'p' });
    const raw = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(raw.auths['127.0.0.1:5000'].auth).toBe(Buffer.from('u:p').toString('base64'));
    expect(c.erase('127.0.0.1:5000')).toBe(true);
    expect(c.erase('127.0.0.1:5000')).toBe(false);
  });
});
