import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { repoRoot as repoRootOf } from '../../common/repo.ts';
import type { Reporter, RunEvent } from '../report/events.ts';

export const fence = '```';
export const repoRoot = repoRootOf();
export const cli = path.join(repoRoot, 'bin', 'runbook.js');

/** Writes `source` to a fresh temp folder and returns the runbook's path. */
export async function writeRunbook(source: string, name = 'rb.md'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'runbook-test-'));
  const file = path.join(dir, name);
  await writeFile(file, source);
  return file;
}

export function collector(): Reporter & { events: RunEvent[]; of<K extends RunEvent['kind']>(kind: K): Extract<RunEvent, { kind: K }>[] } {
  const events: RunEvent[] = [];
  return {
    name: 'collector',
    events,
    onEvent(event) {
      events.push(event);
    },
    of<K extends RunEvent['kind']>(kind: K) {
      return events.filter((event): event is Extract<RunEvent, { kind: K }> => event.kind === kind);
    },
  };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let stateHome: string | undefined;
/**
 * The XDG_STATE_HOME of every CLI this test process runs (the run locks live there): one per test file, so runs of
 * one file contend as a user's would, and files running side by side do not.
 */
export function testStateHome(): string {
  return (stateHome ??= mkdtempSync(path.join(os.tmpdir(), 'runbook-state-')));
}

/** Runs the real CLI as a user would, without a TTY. `onStdout`/`onStderr` may act on the live output (e.g. send a signal). */
export function runCli(
  args: string[],
  options: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    onStdout?: (text: string, child: ReturnType<typeof spawn>) => void;
    onStderr?: (text: string, child: ReturnType<typeof spawn>) => void;
  } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, CI: 'true', XDG_STATE_HOME: testStateHome(), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      options.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      options.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

export { eventually, waitFor } from '../../common/testing.ts';
