/**
 * meshwasm-docs [--write] [FILE.md…]
 *   Checks every marked transcript (see transcripts.ts) and every relative link of the
 *   repository's Markdown files (or of the files named). With --write, transcripts without `…`
 *   that differ are rewritten with the command's real output.
 * Exit codes: 0 all true, 1 something differs, 2 usage.
 */
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { checkLinks } from './links';
import { parseTranscripts, runTranscript, writeTranscripts, type TranscriptResult } from './transcripts';
import { markdownFiles, ROOT } from './workspace';

export async function main(argv: string[]): Promise<number> {
  const write = argv.includes('--write');
  const unknown = argv.find((a) => a.startsWith('-') && a !== '--write');
  if (unknown) {
    process.stderr.write(`meshwasm-docs: unknown option ${unknown}; usage: meshwasm-docs [--write] [FILE.md…]\n`);
    return 2;
  }
  const named = argv.filter((a) => !a.startsWith('-')).map((f) => resolve(f));
  const files = named.length > 0 ? named : markdownFiles();
  let bad = 0;
  const results: TranscriptResult[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const p of checkLinks(file, text, ROOT)) {
      console.log(`✗ ${p.file}:${p.line}: ${p.problem}`);
      bad++;
    }
    for (const t of parseTranscripts(file, text, ROOT)) {
      const r = runTranscript(t);
      results.push(r);
      const where = `${relative(ROOT, file)}:${t.line}`;
      if (r.problem === null) {
        console.log(`✓ ${where}  ${t.session ? '(session)' : t.command}`);
        continue;
      }
      bad++;
      console.log(`✗ ${where}  ${t.session ? '(session)' : t.command}\n    ${r.problem}\n    actual output (exit ${r.exitCode}):`);
      for (const l of r.actual) console.log(`    | ${l}`);
    }
  }
  if (write) {
    const written = writeTranscripts(results);
    for (const w of written) console.log(`rewrote ${relative(ROOT, w)}`);
    bad -= written.length;
  }
  console.log(bad === 0 ? `✓ ${results.length} transcript(s) and every link are true` : `✗ ${bad} problem(s) in the documents`);
  return bad === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`meshwasm-docs: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
