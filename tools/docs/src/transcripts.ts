/**
 * Transcripts in Markdown that cannot drift.
 *
 * A fenced block of command output is preceded by a marker comment naming the command that
 * produces it:
 *
 *     <!-- transcript: npx proxy-wasm-host run dist/header.wasm --config @examples/lab.json -->
 *     ```
 *     plugin dist/header.wasm: configured
 *     …
 *     ```
 *
 * Options go before the colon, separated by spaces:
 *   cwd=DIR      where the command runs, relative to the repository root
 *                (default: the folder of the Markdown file)
 *   exit=N       the exit code the command must end with (default 0)
 *   timeout=N    seconds the command may run before it counts as hung (default 120)
 *
 * A session shows several commands with their output, as a terminal would:
 *
 *     <!-- transcript session ready=admin: -->
 *     ```
 *     $ npx proxy-wasm-host serve --envoy-config envoy.yaml --echo 8080 &
 *     $ curl -si http://127.0.0.1:10000/
 *     HTTP/1.1 200 OK
 *     …
 *     ```
 *
 * Every line that starts with `$ ` is run, in order, in one shell (so `cd` carries over). A
 * command ending in `&` is a server: its output is kept aside, the session waits until it prints
 * a line containing the `ready=` text (30 s at most, or $TRANSCRIPT_READY_SECONDS), and it is stopped when the session ends.
 *
 * The command runs through `sh -c`; stdout and stderr are compared together, in the order the
 * command wrote them to one pipe. Comparison ignores colours and trailing blanks. In the block,
 * `…` stands for "anything": a line that is only `…` matches any number of lines (none
 * included), and `…` inside a line matches any text on that line. Every other line must appear,
 * in order. `checkTranscripts` reports each block that differs; `--write` rewrites blocks that
 * hold no `…` with the real output.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export const ELLIPSIS = '…';

export interface Transcript {
  /** Markdown file, absolute. */
  file: string;
  /** 1-based line of the marker comment. */
  line: number;
  command: string;
  cwd: string;
  exit: number;
  /** A session: the block's `$ ` lines are the commands. */
  session: boolean;
  /** Session: the text a background server prints once it is ready. */
  ready: string;
  /** Seconds the command may run (`timeout=N`; a guard against a hang, not a speed goal). */
  timeoutSeconds: number;
  /** The block's lines, as written. */
  expected: string[];
  /** Offsets of the block's body in the file (for rewriting). */
  bodyStart: number;
  bodyEnd: number;
}

export interface TranscriptResult {
  transcript: Transcript;
  actual: string[];
  exitCode: number;
  /** Why it differs, or null when it matches. */
  problem: string | null;
}

const MARKER = /^<!--\s*transcript((?:\s+(?:session|[a-z]+=\S+))*)\s*:\s*([\s\S]*?)\s*-->\s*$/;
const OPTIONS = new Set(['cwd', 'exit', 'ready', 'session', 'timeout']);
/** How long a transcript's command may run, unless its marker says `timeout=SECONDS`. */
export const DEFAULT_TIMEOUT_SECONDS = 120;

/** Finds every marked transcript of one Markdown file. Throws on a marker without a block. */
export function parseTranscripts(file: string, text: string, root: string): Transcript[] {
  const out: Transcript[] = [];
  const lines = text.split('\n');
  const offsets: number[] = [];
  let pos = 0;
  for (const l of lines) {
    offsets.push(pos);
    pos += l.length + 1;
  }
  let example = false; // inside a ````-fenced example of Markdown, markers are text
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith('````')) example = !example;
    const m = example ? null : MARKER.exec(lines[i]);
    if (!m) continue;
    const opts = new Map<string, string>();
    for (const o of m[1].trim().split(/\s+/).filter(Boolean)) {
      const [k, v = ''] = o.split('=');
      if (!OPTIONS.has(k)) throw new Error(`${relative(root, file)}:${i + 1}: unknown transcript option "${k}"`);
      if (k === 'timeout' && !/^[1-9]\d*$/.test(v)) throw new Error(`${relative(root, file)}:${i + 1}: timeout= takes a number of seconds, got "${v}"`);
      opts.set(k, v);
    }
    const fence = lines[i + 1];
    if (fence === undefined || !/^```[a-z]*$/.test(fence)) {
      throw new Error(`${relative(root, file)}:${i + 1}: a transcript marker must be followed by a fenced block`);
    }
    let end = i + 2;
    while (end < lines.length && lines[end] !== '```') end++;
    if (end >= lines.length) throw new Error(`${relative(root, file)}:${i + 1}: the transcript's block is never closed`);
    const session = opts.has('session');
    if (session === (m[2] !== '')) {
      throw new Error(`${relative(root, file)}:${i + 1}: a transcript names a command, or is a session of \`$ \` lines, not both`);
    }
    const expected = lines.slice(i + 2, end);
    out.push({
      file,
      line: i + 1,
      command: session ? sessionScript(expected, opts.get('ready') ?? '') : m[2],
      session,
      ready: opts.get('ready') ?? '',
      cwd: opts.has('cwd') ? join(root, opts.get('cwd')!) : dirname(file),
      exit: opts.has('exit') ? Number(opts.get('exit')) : 0,
      timeoutSeconds: opts.has('timeout') ? Number(opts.get('timeout')) : DEFAULT_TIMEOUT_SECONDS,
      expected,
      bodyStart: offsets[i + 2],
      bodyEnd: offsets[end],
    });
    i = end;
  }
  return out;
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The shell script of a session: each `$ ` line is echoed, then run; servers (`&`) write to a
 * file of their own, and the script waits for their ready line. Every server is stopped at the
 * end, whatever happens.
 */
export function sessionScript(block: string[], ready: string): string {
  // __s keeps each command's status across the printf that shows the next line, so `echo $?` works.
  const out = ['__s=0', 'servers=""', 'trap \'for p in $servers; do kill -TERM -$p 2>/dev/null || kill -TERM $p 2>/dev/null; done\' EXIT'];
  let n = 0;
  for (const line of block) {
    if (!line.startsWith('$ ')) continue;
    const cmd = line.slice(2).trim();
    out.push(`printf '%s\\n' ${shellQuote(line)}`);
    if (cmd.endsWith('&')) {
      const log = `"\${TMPDIR:-/tmp}/transcript-server-$$-${n++}.log"`;
      // setsid: the server leads a process group of its own, so the whole group (npx and the
      // node process under it) is stopped at the end.
      out.push(`setsid sh -c ${shellQuote(cmd.slice(0, -1))} >${log} 2>&1 &`, 'servers="$servers $!"');
      if (!ready) throw new Error('a session that starts a server (`&`) needs ready=TEXT');
      out.push(
        `i=0; until grep -q ${shellQuote(ready)} ${log} 2>/dev/null; do i=$((i+1)); if [ $i -gt $((\${TRANSCRIPT_READY_SECONDS:-30}*10)) ]; then echo "(the server never printed ${ready.replace(/[^\w ]/g, '')})"; cat ${log}; exit 1; fi; sleep 0.1; done; rm -f ${log}`,
      );
    } else {
      out.push('(exit $__s)', cmd, '__s=$?');
    }
  }
  out.push('exit $__s');
  return out.join('\n');
}

/** Removes colours and trailing blanks, and drops trailing empty lines. */
export function normalise(output: string): string[] {
  // eslint-disable-next-line no-control-regex -- ANSI colour sequences start with ESC
  const lines = output.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '').split('\n').map((l) => l.replace(/\s+$/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function linePattern(expected: string): RegExp {
  const parts = expected.split(ELLIPSIS).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.*')}$`);
}

/**
 * Matches the block against the output. Returns null when it matches, otherwise the first
 * expected line that could not be found (with the output line where the search stood).
 */
export function matchTranscript(expected: string[], actual: string[]): string | null {
  const exp = normalise(expected.join('\n'));
  // memo[i][j]: exp[i..] can match actual[j..]
  const memo = new Map<number, boolean>();
  let deepest = { i: 0, j: 0 };
  const go = (i: number, j: number): boolean => {
    const key = i * (actual.length + 1) + j;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    if (i > deepest.i || (i === deepest.i && j > deepest.j)) deepest = { i, j };
    let ok: boolean;
    if (i === exp.length) ok = j === actual.length;
    else if (exp[i].trim() === ELLIPSIS) ok = go(i + 1, j) || (j < actual.length && go(i, j + 1));
    else ok = j < actual.length && linePattern(exp[i]).test(actual[j]) && go(i + 1, j + 1);
    memo.set(key, ok);
    return ok;
  };
  if (go(0, 0)) return null;
  const { i, j } = deepest;
  if (i >= exp.length) return `the output goes on after the block ends: ${JSON.stringify(actual[j] ?? '')}`;
  return `expected ${JSON.stringify(exp[i])} at output line ${j + 1}, found ${JSON.stringify(actual[j] ?? '(end of output)')}`;
}

/** Runs one transcript's command and compares. */
export function runTranscript(t: Transcript, env: NodeJS.ProcessEnv = process.env): TranscriptResult {
  const r = spawnSync('sh', ['-c', `exec 2>&1; ${t.command}`], {
    cwd: t.cwd,
    encoding: 'utf8',
    env: { ...env, NO_COLOR: '1', FORCE_COLOR: '0', NX_TUI: 'false', NX_DAEMON: 'false' },
    timeout: t.timeoutSeconds * 1000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const actual = normalise(r.stdout ?? '');
  const exitCode = r.status ?? -1;
  let problem: string | null = null;
  if (r.error) problem = `the command could not run: ${r.error.message}`;
  else if (exitCode !== t.exit) problem = `exit code ${exitCode}, the transcript says ${t.exit}`;
  else problem = matchTranscript(t.expected, actual);
  return { transcript: t, actual, exitCode, problem };
}

/** Rewrites, in their files, the transcripts that hold no `…` with the output they produced. */
export function writeTranscripts(results: TranscriptResult[]): string[] {
  const written: string[] = [];
  const byFile = new Map<string, TranscriptResult[]>();
  for (const r of results) {
    if (r.problem === null || r.transcript.expected.some((l) => l.includes(ELLIPSIS))) continue;
    if (r.exitCode !== r.transcript.exit) continue;
    byFile.set(r.transcript.file, [...(byFile.get(r.transcript.file) ?? []), r]);
  }
  for (const [file, rs] of byFile) {
    let text = readFileSync(file, 'utf8');
    for (const r of rs.sort((a, b) => b.transcript.bodyStart - a.transcript.bodyStart)) {
      text = text.slice(0, r.transcript.bodyStart) + r.actual.join('\n') + '\n' + text.slice(r.transcript.bodyEnd);
      written.push(`${file}:${r.transcript.line}`);
    }
    writeFileSync(file, text);
  }
  return written;
}
