/**
 * The one Chromium lookup, for playwright.config.ts and for `npm test`'s pretest step. Browser downloads are
 * impossible here, so the suite uses the machine's: `$CHROMIUM_PATH`, else the first the distribution installed. Where
 * none is installed and the step runs as root, it installs Debian's `chromium` package; otherwise it stops before the
 * suite with one line saying how to get one.
 *
 * Run as a script (`node --import tsx e2e/chromium.ts`, npm's `pretest`): exit 0 with a Chromium in place, 1 without.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'] as const;

/** What the lookup reads from the machine; injected by the tests, so the logic is tested without uninstalling anything. */
export interface Machine {
  env: NodeJS.ProcessEnv;
  /** The effective uid (0: root). */
  uid: number;
  candidates: readonly string[];
  executable(file: string): boolean;
  /** Runs a command to completion, inheriting stdio; throws when it fails. */
  run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): void;
}

export type Decision = { kind: 'found'; path: string } | { kind: 'install' } | { kind: 'refuse'; message: string };

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const thisMachine = (): Machine => ({
  env: process.env,
  uid: process.getuid?.() ?? -1,
  candidates: CHROMIUM_CANDIDATES,
  executable: isExecutable,
  run: (command, args, env) => void execFileSync(command, args, { stdio: 'inherit', env }),
});

/** The Chromium to use, if there is one: `$CHROMIUM_PATH` as given, else the first installed candidate. */
export function findChromium(machine: Pick<Machine, 'env' | 'candidates' | 'executable'> = thisMachine()): string | undefined {
  const explicit = machine.env['CHROMIUM_PATH'];
  if (explicit) return explicit;
  return machine.candidates.find((candidate) => machine.executable(candidate));
}

const HOW = `install Debian's chromium package (apt-get install chromium, as root) or set CHROMIUM_PATH to a Chromium or Chrome binary`;

export function decide(machine: Machine): Decision {
  const explicit = machine.env['CHROMIUM_PATH'];
  // An explicit choice is never overridden by an install: a wrong one is the operator's to fix.
  if (explicit) return machine.executable(explicit) ? { kind: 'found', path: explicit } : { kind: 'refuse', message: `npm test: CHROMIUM_PATH=${explicit} is not an executable; ${HOW}` };
  const found = findChromium(machine);
  if (found) return { kind: 'found', path: found };
  if (machine.uid === 0) return { kind: 'install' };
  return { kind: 'refuse', message: `npm test: no Chromium at ${machine.candidates.join(', ')} and not root to install one: ${HOW}` };
}

/** Finds a Chromium or installs one; returns the one line to print when there is none (undefined: ready). */
export function ensureChromium(machine: Machine = thisMachine(), log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): string | undefined {
  const decision = decide(machine);
  if (decision.kind === 'found') return undefined;
  if (decision.kind === 'refuse') return decision.message;
  log('npm test: no Chromium found; installing Debian\'s chromium package with apt-get');
  const env = { ...machine.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    machine.run('apt-get', ['update', '-qq'], env);
    machine.run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], env);
  } catch (error) {
    return `npm test: installing chromium with apt-get failed (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); ${HOW}`;
  }
  const installed = findChromium(machine);
  return installed ? undefined : `npm test: apt-get installed chromium but none is at ${machine.candidates.join(', ')}; ${HOW}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const problem = ensureChromium();
  if (problem) {
    process.stderr.write(`${problem}\n`);
    process.exitCode = 1;
  }
}
