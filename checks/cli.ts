import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatDiagnostic, hasErrors, severityOf, type Diagnostic } from '../runner/diagnostics.ts';
import { parseRunbookBounded } from '../runner/parse/bounded.ts';
import { checkDrift } from './drift/index.ts';
import type { ReplayRunner } from './drift/types.ts';
import { lintRunbook } from './lint/index.ts';
import type { ParsedRunbook } from './rule.ts';

/** Exit codes of `runbook lint` and `runbook check` (SPEC: CLI). */
export const EXIT = { clean: 0, findings: 1, invalid: 2 } as const;

/** Where the commands write; injected so tests read output without touching the process. */
export interface CommandIO {
  stdout(line: string): void;
  stderr(line: string): void;
}

export interface CheckDependencies {
  /** The runner's sandbox replay, wired by the CLI; `--replay` without it is a usage error. */
  replay?: ReplayRunner;
  /** "Today" for freshness (tests). */
  now?: Date;
  io?: CommandIO;
}

const processIO: CommandIO = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
};

/** A mistake in the invocation: reported as one line and exit 2, never a stack trace. */
class UsageError extends Error {}

async function load(file: string): Promise<ParsedRunbook> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${file}${code === 'ENOENT' ? ': no such file' : code ? `: ${code}` : ''}`);
  }
  return parseRunbookBounded(source, file);
}

function summary(command: string, file: string, messages: readonly Diagnostic[]): string {
  if (messages.length === 0) return `runbook ${command}: ${file}: no problems`;
  const errors = messages.filter((message) => severityOf(message) === 'error').length;
  const warnings = messages.length - errors;
  const parts = [`${errors} error${errors === 1 ? '' : 's'}`, `${warnings} warning${warnings === 1 ? '' : 's'}`];
  return `runbook ${command}: ${file}: ${messages.length} problem${messages.length === 1 ? '' : 's'} (${parts.join(', ')})`;
}

/** Findings exit 1 whatever their severity; a document the parser rejects is invalid (2), as for `run`. */
function exitCode(parsed: ParsedRunbook, messages: readonly Diagnostic[]): number {
  if (hasErrors(parsed.messages)) return EXIT.invalid;
  return messages.length > 0 ? EXIT.findings : EXIT.clean;
}

function print(io: CommandIO, command: string, file: string, messages: readonly Diagnostic[]): void {
  for (const message of messages) io.stdout(formatDiagnostic(message));
  io.stderr(summary(command, file, messages));
}

async function guarded(io: CommandIO, command: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`runbook ${command}: ${(error as Error).message}`);
      return EXIT.invalid;
    }
    throw error;
  }
}

/** `runbook lint [FILE]`: exit 0 clean, 1 findings, 2 invalid document or usage. */
export async function lintCommand(args: string[], io: CommandIO = processIO): Promise<number> {
  return guarded(io, 'lint', async () => {
    const { positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {} });
    if (positionals.length > 1) throw new UsageError(`expected at most one FILE, got ${positionals.length}`);
    const file = positionals[0] ?? 'runbook.md';
    const parsed = await load(file);
    const messages = lintRunbook(parsed);
    print(io, 'lint', file, messages);
    return exitCode(parsed, messages);
  });
}

/**
 * The platform repo to compare with: `--repo` (relative to the cwd), else `fixtures/platform` next to the runbook,
 * else `fixtures/platform` in the cwd.
 */
export function defaultRepo(file: string, cwd = process.cwd()): string {
  const besideRunbook = path.resolve(cwd, path.dirname(file), 'fixtures/platform');
  return existsSync(besideRunbook) ? besideRunbook : path.resolve(cwd, 'fixtures/platform');
}

/** `runbook check [FILE] [--repo DIR] [--max-age DAYS] [--replay]`: exit 0 clean, 1 drift, 2 invalid or usage. */
export async function checkCommand(args: string[], dependencies: CheckDependencies = {}): Promise<number> {
  const io = dependencies.io ?? processIO;
  return guarded(io, 'check', async () => {
    const { positionals, values } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { repo: { type: 'string' }, 'max-age': { type: 'string' }, replay: { type: 'boolean' } },
    });
    if (positionals.length > 1) throw new UsageError(`expected at most one FILE, got ${positionals.length}`);
    const file = positionals[0] ?? 'runbook.md';
    let maxAgeDays: number | undefined;
    if (values['max-age'] !== undefined) {
      if (!/^\d+$/.test(values['max-age'])) throw new UsageError(`--max-age expects a whole number of days, got \`${values['max-age']}\``);
      maxAgeDays = Number(values['max-age']);
    }
    const repo = values.repo !== undefined ? path.resolve(values.repo) : defaultRepo(file);
    if (!existsSync(repo)) throw new UsageError(`platform repo not found: ${repo} (give one with --repo DIR)`);
    if (values.replay && !dependencies.replay) throw new UsageError('--replay is not available in this build');
    const parsed = await load(file);
    const drift = await checkDrift(parsed, {
      repo,
      maxAgeDays,
      now: dependencies.now,
      replay: values.replay ? dependencies.replay : undefined,
    });
    // The parser's errors come first: drift in a document that does not parse is secondary.
    const messages = [...parsed.messages.filter((message) => message.fatal === true), ...drift];
    print(io, 'check', file, messages);
    return exitCode(parsed, messages);
  });
}
