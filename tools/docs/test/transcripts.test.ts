import { describe, expect, test } from '@jest/globals';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { matchTranscript, normalise, parseTranscripts, runTranscript, writeTranscripts } from '../src/transcripts';

describe('matchTranscript', () => {
  test('exact lines match, and any difference is named', () => {
    expect(matchTranscript(['a', 'b'], ['a', 'b'])).toBeNull();
    expect(matchTranscript(['a', 'b'], ['a', 'c'])).toBe('expected "b" at output line 2, found "c"');
    expect(matchTranscript(['a'], ['a', 'b'])).toMatch(/goes on after the block ends/);
    expect(matchTranscript(['a', 'b'], ['a'])).toMatch(/found "\(end of output\)"/);
  });

  test('a lone … matches any number of lines, none included', () => {
    expect(matchTranscript(['a', '…', 'z'], ['a', 'z'])).toBeNull();
    expect(matchTranscript(['a', '…', 'z'], ['a', '1', '2', 'z'])).toBeNull();
    expect(matchTranscript(['…', 'z'], ['1', 'y'])).not.toBeNull();
    expect(matchTranscript(['a', '…'], ['a', 'anything', 'more'])).toBeNull();
  });

  test('… inside a line matches any text; other characters are literal', () => {
    expect(matchTranscript(['size … bytes (x)'], ['size 7531 bytes (x)'])).toBeNull();
    expect(matchTranscript(['size … bytes (x)'], ['size 7531 bytes [x]'])).not.toBeNull();
    expect(matchTranscript(['a.b'], ['axb'])).not.toBeNull();
  });

  test('colours and trailing blanks do not count', () => {
    expect(normalise('\u001b[32m✓\u001b[39m ok   \n\n')).toEqual(['✓ ok']);
  });
});

describe('parseTranscripts and runTranscript', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docs-'));
  const md = join(dir, 'README.md');
  const text = [
    '# demo',
    '<!-- transcript: printf "one\\ntwo\\n" -->',
    '```',
    'one',
    'three',
    '```',
    '<!-- transcript exit=3: echo oops; exit 3 -->',
    '```',
    'oops',
    '```',
    '<!-- transcript: printf "x 12\\ny\\n" -->',
    '```',
    'x …',
    '```',
    '',
  ].join('\n');
  writeFileSync(md, text);

  test('each marked block is found with its command, cwd and exit code', () => {
    const ts = parseTranscripts(md, text, dir);
    expect(ts.map((t) => [t.line, t.command, t.exit, t.cwd])).toEqual([
      [2, 'printf "one\\ntwo\\n"', 0, dir],
      [7, 'echo oops; exit 3', 3, dir],
      [11, 'printf "x 12\\ny\\n"', 0, dir],
    ]);
  });

  test('a wrong block is reported, a right one is not; --write fixes only blocks without …', () => {
    const results = parseTranscripts(md, text, dir).map((t) => runTranscript(t));
    expect(results.map((r) => r.problem === null)).toEqual([false, true, false]);
    expect(results[0].problem).toBe('expected "three" at output line 2, found "two"');
    expect(writeTranscripts(results)).toEqual([`${md}:2`]);
    const fixed = readFileSync(md, 'utf8');
    expect(fixed).toContain('```\none\ntwo\n```');
    expect(fixed).toContain('```\nx …\n```');
  });

  test('a wrong exit code is a difference', () => {
    const [t] = parseTranscripts(md, '<!-- transcript: echo oops -->\n```\noops\n```\n', dir);
    expect(runTranscript({ ...t, exit: 1 }).problem).toBe('exit code 0, the transcript says 1');
  });

  test('timeout=N bounds the command (default 120 s); it must be a number of seconds', () => {
    const [long, plain] = parseTranscripts(md, '<!-- transcript timeout=1: sleep 5; echo late -->\n```\nlate\n```\n<!-- transcript: echo x -->\n```\nx\n```\n', dir);
    expect([long.timeoutSeconds, plain.timeoutSeconds]).toEqual([1, 120]);
    expect(runTranscript(long).problem).toMatch(/^the command could not run: .*ETIMEDOUT/);
    expect(() => parseTranscripts(md, '<!-- transcript timeout=soon: ls -->\n```\n```\n', dir)).toThrow(/timeout= takes a number of seconds, got "soon"/);
  });

  test('a marker without a block, or with an unknown option, is an error', () => {
    expect(() => parseTranscripts(md, '<!-- transcript: ls -->\ntext\n', dir)).toThrow(/must be followed by a fenced block/);
    expect(() => parseTranscripts(md, '<!-- transcript dir=x: ls -->\n```\n```\n', dir)).toThrow(/unknown transcript option "dir"/);
  });
});

describe('sessions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docs-session-'));
  const md = join(dir, 'README.md');
  // A "server" that prints its ready line, then keeps a file updated until it is stopped.
  const server = `sh -c 'echo up; while true; do date +%s%N > alive; sleep 0.05; done' &`;
  const text = [
    '<!-- transcript session ready=up: -->',
    '```',
    `$ ${server}`,
    '$ mkdir -p sub && cd sub && echo made',
    'made',
    '$ pwd | sed "s|.*/||"',
    'sub',
    '$ false',
    '$ echo $?',
    '1',
    '```',
  ].join('\n');
  writeFileSync(md, text);

  test('commands run in one shell, servers run aside and are stopped at the end', async () => {
    const [t] = parseTranscripts(md, text, dir);
    expect(t.session).toBe(true);
    const r = runTranscript(t);
    expect(r.problem).toBeNull();
    expect(r.actual).toEqual([`$ ${server}`, '$ mkdir -p sub && cd sub && echo made', 'made', '$ pwd | sed "s|.*/||"', 'sub', '$ false', '$ echo $?', '1']);
    await new Promise((res) => setTimeout(res, 200));
    const before = statSync(join(dir, 'alive')).mtimeMs;
    await new Promise((res) => setTimeout(res, 400));
    expect(statSync(join(dir, 'alive')).mtimeMs).toBe(before);
  });

  test('a server that never gets ready fails the session, naming it', () => {
    const bad = ['<!-- transcript session ready=never: -->', '```', '$ sh -c "echo nope; sleep 60" &', '```'].join('\n');
    const [t] = parseTranscripts(md, bad, dir);
    const r = runTranscript(t, { ...process.env, TRANSCRIPT_READY_SECONDS: '2' });
    expect(r.problem).not.toBeNull();
    expect(r.actual).toContain('(the server never printed never)');
  }, 60_000);

  test('a session ends with the status of its last command', () => {
    const fails = ['<!-- transcript session exit=3: -->', '```', '$ true', '$ sh -c "exit 3"', '```'].join('\n');
    const [t] = parseTranscripts(md, fails, dir);
    expect(runTranscript(t).problem).toBeNull();
    expect(runTranscript({ ...t, exit: 0 }).problem).toBe('exit code 3, the transcript says 0');
  });

  test('a session needs ready= when it starts a server, and no command after the colon', () => {
    expect(() => parseTranscripts(md, '<!-- transcript session: -->\n```\n$ x &\n```\n', dir)).toThrow(/needs ready=TEXT/);
    expect(() => parseTranscripts(md, '<!-- transcript session: ls -->\n```\n```\n', dir)).toThrow(/not both/);
  });
});
