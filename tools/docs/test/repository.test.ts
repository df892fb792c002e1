/**
 * The repository's own documents: every marked transcript produces what the block shows, and
 * every relative link resolves inside the repository. A failure prints the real output; run
 * `npm run docs -- --write` to rewrite blocks without `…`.
 */
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { checkLinks, markdownFiles, parseTranscripts, ROOT, runTranscript } from '../src/index';

const files = markdownFiles();

describe('the repository documents', () => {
  test('no document points outside the repository', () => {
    const problems = files.flatMap((f) => checkLinks(f, readFileSync(f, 'utf8'), ROOT));
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.problem}`)).toEqual([]);
  });

  const transcripts = files.flatMap((f) => parseTranscripts(f, readFileSync(f, 'utf8'), ROOT));

  test('there are transcripts to check', () => {
    expect(transcripts.length).toBeGreaterThan(10);
  });

  test.each(transcripts.map((t) => [`${relative(ROOT, t.file)}:${t.line}`, t] as const))(
    '%s is what its command prints',
    (_where, t) => {
      const r = runTranscript(t);
      expect({ problem: r.problem, actual: r.problem ? r.actual : [] }).toEqual({ problem: null, actual: [] });
    },
    // the longest command's own bound (timeout=N), plus the time to compare
    Math.max(150_000, ...transcripts.map((t) => (t.timeoutSeconds + 30) * 1000)),
  );
});
