/**
 * Hostile and broken input through the real CLI: every document of a deterministic corpus ends `plan`, `lint` and
 * `run` with exit 0, 1 or 2, a positioned message when it is refused or fails, never a stack trace or an internal
 * error, and within the time bound (SPEC: no input of 10 MB or less takes more than 5 s to reject or plan).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { cli, fence } from './helpers.ts';

/**
 * The bound, in CPU time of the CLI process (all its threads): on a shared machine wall time also counts the other
 * processes' turns. A hang still fails, on the wall-clock limit beside it.
 */
const BOUND_MS = 5000;
const HANG_MS = 60_000;
const cpuProbe = pathToFileURL(path.join(import.meta.dirname, 'cpu-usage.mjs')).href;

/** A small deterministic generator (mulberry32): the same corpus on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const step = (body: string, info = 'ts step rollback=none reason="fuzz"') => `${fence}${info}\n${body}\n${fence}\n`;
const doc = (...parts: string[]) => `# Fuzz\n\n${parts.join('\n')}`;

const corpus: Record<string, string | Buffer> = {
  'empty.md': '',
  'only-bom.md': '\uFEFF',
  'bom-front-matter.md': `\uFEFF---\ntitle: x\n---\n${doc(step('console.log("hi")'))}`,
  'crlf.md': doc(step('console.log("crlf")'), `${fence}text expect\ncrlf\n${fence}\n`).replace(/\n/g, '\r\n'),
  'lone-cr.md': doc(step('return 1')).replace(/\n/g, '\r'),
  'nul-bytes.md': doc(step('const a = "\0"\nreturn a', `ts step\0 id=a\0b rollback=none reason="x"`), '\0\0\0'),
  'binary.bin.md': Buffer.from(Array.from({ length: 64 * 1024 }, (_, index) => (index * 131 + 7) % 256)),
  'random-bytes.md': Buffer.from(Array.from({ length: 32 * 1024 }, random(7)).map((value) => Math.floor(value * 256))),
  'random-markdown.md': (() => {
    const next = random(11);
    const pieces = ['`', '```', '~~~', '>', '- ', '1. ', '#', '[', ']', '(', ')', '*', '_', '<!--', '-->', '---', '\n', '\n\n', ' ', 'ts step', 'id=', 'timeout=', '"', '\\', '|', '&amp;', '<div>'];
    return Array.from({ length: 20_000 }, () => pieces[Math.floor(next() * pieces.length)]).join('');
  })(),
  'yaml-malformed.md': `---\ntitle: "unclosed\nowner: [a, b\n\tbad: tab\n---\n${doc(step('return 1'))}`,
  'yaml-duplicate-keys.md': `---\ntitle: a\ntitle: b\n---\n${doc(step('return 1'))}`,
  'yaml-not-a-map.md': `---\n- a\n- b\n---\n${doc(step('return 1'))}`,
  'yaml-odd-values.md': `---\ntargets: [1, 2]\ndefault-target: {a: 1}\nreview-every: 10\nlast-validated: [x]\n---\n${doc(step('return 1'))}`,
  'yaml-alias-bomb.md': `---\n${['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...'bcdefghi'.split('').map((key, index) => `${key}: &${key} [${Array(9).fill(`*${'abcdefghi'[index]}`).join(',')}]`)].join('\n')}\n---\n${doc(step('return 1'))}`,
  'yaml-deep-nesting.md': `---\nx: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n---\n${doc(step('return 1'))}`,
  'yaml-huge.md': `---\n${Array.from({ length: 5000 }, (_, index) => `key${index}: ${'v'.repeat(20)}`).join('\n')}\n---\n${doc(step('return 1'))}`,
  'unclosed-front-matter.md': `---\ntitle: x\n${doc(step('return 1'))}`,
  'unclosed-fence.md': doc(`${fence}ts step\nreturn 1\n`),
  'fence-mismatch.md': doc('````ts step\nreturn 1\n```\n', '~~~ts step\nreturn 2\n```\n'),
  'attributes-bad.md': doc(
    step('return 1', 'ts step timeout=25d retries=abc retry-delay=-1s when= id=../../x confirm=maybe rollback=some'),
    step('return 2', 'ts step timeout=99999999999999999999d id=a id=b bogus=1 rollback=none'),
    step('return 3', `ts step ${Array.from({ length: 2000 }, (_, index) => `k${index}=v`).join(' ')}`),
    step('return 4', `ts step id="${'x'.repeat(100_000)}`),
  ),
  'roles-odd.md': doc(step('1', 'ts verify'), step('x', 'text expect'), step('1', 'ts rollback'), step('1', 'ts stepp'), step('1', 'python step')),
  'duplicate-ids.md': doc(step('return 1', 'ts step id=a rollback=none reason="x"'), step('return 2', 'ts step id=a rollback=none reason="x"')),
  'syntax-error.md': doc(step('return ((( 1')),
  'blockquotes-10000.md': `${'>'.repeat(10_000)} deep\n`,
  'blockquote-fences.md': Array.from({ length: 40 }, (_, index) => `${'> '.repeat(index)}${fence}ts step\n${'> '.repeat(index)}return 1\n`).join(''),
  'lists-3000-one-line.md': `${'- '.repeat(3000)}x\n`,
  'nested-list-1mb.md': (() => {
    const lines: string[] = [];
    for (let size = 0, index = 0; size < 1_000_000; index += 1) {
      const line = `${'  '.repeat(index % 3000)}- item\n`;
      lines.push(line);
      size += line.length;
    }
    return lines.join('');
  })(),
  'brackets-1mb.md': `${'[a] '.repeat(20)}\n`.repeat(12_000),
  'huge-10mb.md': 'A paragraph of ordinary words in a runbook that never ends.\n\n'.repeat(170_000),
  'headings-many.md': Array.from({ length: 20_000 }, (_, index) => `## Heading ${index}\n`).join(''),
  'html-unclosed.md': doc('<!-- drift-ignore: x reason="', '<div>', step('return 1')),
  'throw-null-tostring.md': doc(step('throw { toString: null }')),
  'throw-null-prototype.md': doc(step('throw Object.create(null)')),
  'throw-message-getter.md': doc(step("const e = new Error('x'); Object.defineProperty(e, 'message', { get() { throw new Error('boom') } }); throw e")),
  'throw-undefined-symbol.md': doc(step('throw undefined'), '## Two\n', step('throw Symbol("s")'), '## Three\n', step('throw 42')),
  'throw-in-verify-rollback.md': doc(
    step('return 1', 'ts step id=one'),
    step('throw { toString: null }', 'ts rollback'),
    '## Two\n',
    step('throw new Error("fails after one")', 'ts step id=two rollback=none reason="x"'),
    step('throw { toString() { throw new Error("again") } }', 'ts verify'),
  ),
};

interface Outcome {
  code: number | null;
  output: string;
  /** CPU milliseconds of the CLI process. */
  cpuMs: number;
  wallMs: number;
}

/** The real CLI, as runCli runs it, with the CPU probe preloaded. */
function invoke(args: string[], cwd: string): Promise<Outcome> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', cpuProbe, cli, ...args], {
      cwd,
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      timeout: HANG_MS,
    });
    let output = '';
    let cpu = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => (cpu += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output, cpuMs: Number(cpu.trim() || Infinity), wallMs: Date.now() - started }));
  });
}

/** `run` executes blocks: only the documents whose blocks are the hostile part go through it (the rest is `plan`'s). */
const RUN = /^(throw-|crlf|bom|nul|empty|attributes|random-markdown|syntax|roles|duplicate)/;

describe('hostile input through the CLI', { concurrency: 3 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'runbook-fuzz-'));
    for (const [name, content] of Object.entries(corpus)) await writeFile(path.join(dir, name), content);
  });

  for (const name of Object.keys(corpus)) {
    it(`ends ${name} with 0, 1 or 2 and a positioned message, never a stack, within ${BOUND_MS / 1000}s`, async () => {
      const file = path.join(dir, name);
      // `run` last: a document `plan` refuses must be refused by `run` too, before anything runs.
      for (const command of ['plan', 'lint', ...(RUN.test(name) ? ['run'] : [])]) {
        const { code, output, cpuMs, wallMs } = await invoke([command, file], dir);
        const what = `${command} ${name} (exit ${code}, ${cpuMs} ms CPU, ${wallMs} ms):\n${output.slice(0, 2000)}`;
        assert.ok(code === 0 || code === 1 || code === 2, what);
        assert.doesNotMatch(output, /internal error|^\s+at .+:\d+:\d+\)?$/m, what);
        if (code !== 0) assert.match(output, new RegExp(`${name.replace(/\./g, '\\.')}:\\d+:\\d+`), what);
        if (command !== 'run' || code === 2) assert.ok(cpuMs < BOUND_MS, what);
      }
    });
  }
});
