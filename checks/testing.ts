import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../common/repo.ts';
import { formatDiagnostic, type Diagnostic } from '../common/diagnostics.ts';
import { parseRunbook } from '../runner/parse/index.ts';
import type { CommandIO } from '../common/io.ts';

/** Test helpers shared by the checks' tests (not a test file itself). */
export const ROOT = repoRoot();
export const PLATFORM = path.join(ROOT, 'fixtures/platform');
export const SAMPLE = 'fixtures/runbooks/drift-sample.md';

export function parse(source: string, file = 'runbook.md') {
  return parseRunbook(source, file);
}

export function parseFixture(relative = SAMPLE) {
  return parseRunbook(readFileSync(path.join(ROOT, relative), 'utf8'), relative);
}

export const formatted = (messages: readonly Diagnostic[]): string[] => messages.map(formatDiagnostic);

export function tempDir(prefix = 'runbook-checks-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/** A throwaway copy of the platform fixture, cleaned up by `dispose`. */
export function copyPlatform(): { dir: string; dispose: () => void } {
  const dir = tempDir('platform-');
  cpSync(PLATFORM, dir, { recursive: true });
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Replaces text in a repo file, failing loudly when the text is not there (so a changed fixture breaks the test). */
export function edit(dir: string, file: string, from: string | RegExp, to: string): void {
  const target = path.join(dir, file);
  const before = readFileSync(target, 'utf8');
  const after = typeof from === 'string' ? before.split(from).join(to) : before.replace(from, to);
  assert.notEqual(after, before, `${file} does not contain ${String(from)}`);
  writeFileSync(target, after);
}

/** A repo from inline files: `{ 'scripts/x.sh': '...' }`. */
export function writeRepo(files: Record<string, string>): string {
  const dir = tempDir('repo-');
  for (const [relative, content] of Object.entries(files)) {
    const target = path.join(dir, relative);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
  }
  return dir;
}

/** "LINE:COL" of the nth occurrence of `text` in a fixture: tests name positions by what is there. */
export function positionOf(source: string, text: string, nth = 1): string {
  let at = -1;
  for (let k = 0; k < nth; k++) {
    at = source.indexOf(text, at + 1);
    assert.notEqual(at, -1, `fixture does not contain ${text} ${nth} times`);
  }
  const before = source.slice(0, at).split('\n');
  return `${before.length}:${before[before.length - 1]!.length + 1}`;
}

export function captureIO(): CommandIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (line) => out.push(line), stderr: (line) => err.push(line) };
}
