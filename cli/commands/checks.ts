import { existsSync } from 'node:fs';
import path from 'node:path';
import { hasErrors, messageLines, severityOf, type Diagnostic } from '../../common/diagnostics.ts';
import { UsageError } from '../../common/errors.ts';
import { EXIT } from '../../common/exit.ts';
import { processIO, type CommandIO } from '../../common/io.ts';
import { checkDrift } from '../../checks/drift/index.ts';
import type { ReplayRunner } from '../../checks/drift/types.ts';
import { lintRunbook } from '../../checks/lint/index.ts';
import type { ParsedRunbook } from '../../checks/rule.ts';
import { parseRunbookFile } from '../../runner/load.ts';
import { guard } from '../guard.ts';

export interface LintOptions {
  file: string;
}

export interface CheckOptions {
  file: string;
  /** The platform repository (relative to the cwd); default: see defaultRepo. */
  repo?: string;
  /** Whole days, overriding `review-every` (a string as typed: validated here). */
  maxAge?: string;
  replay?: boolean;
}

export interface CheckDependencies {
  /** The runner's sandbox replay, wired by the CLI; `--replay` without it is a usage error. */
  replay?: ReplayRunner;
  /** "Today" for freshness (tests). */
  now?: Date;
  io?: CommandIO;
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
  if (hasErrors(parsed.messages)) return EXIT.usage;
  return messages.length > 0 ? EXIT.failed : EXIT.ok;
}

function print(io: CommandIO, command: string, file: string, messages: readonly Diagnostic[]): void {
  for (const message of messages) for (const line of messageLines(message)) io.stdout(line);
  io.stderr(summary(command, file, messages));
}

/** `runbook lint [FILE]`: exit 0 clean, 1 findings, 2 invalid document or usage. */
export function lintCommand(options: LintOptions, io: CommandIO = processIO): Promise<number> {
  return guard('lint', io, async () => {
    const parsed = await parseRunbookFile(options.file);
    const messages = lintRunbook(parsed);
    print(io, 'lint', options.file, messages);
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
export function checkCommand(options: CheckOptions, dependencies: CheckDependencies = {}): Promise<number> {
  const io = dependencies.io ?? processIO;
  return guard('check', io, async () => {
    const { file } = options;
    let maxAgeDays: number | undefined;
    if (options.maxAge !== undefined) {
      if (!/^\d+$/.test(options.maxAge)) throw new UsageError(`--max-age expects a whole number of days, got \`${options.maxAge}\``);
      maxAgeDays = Number(options.maxAge);
    }
    const repo = options.repo !== undefined ? path.resolve(options.repo) : defaultRepo(file);
    if (!existsSync(repo)) throw new UsageError(`platform repo not found: ${repo} (give one with --repo DIR)`);
    if (options.replay && !dependencies.replay) throw new UsageError('--replay is not available in this build');
    const parsed = await parseRunbookFile(file);
    const drift = await checkDrift(parsed, {
      repo,
      maxAgeDays,
      now: dependencies.now,
      replay: options.replay ? dependencies.replay : undefined,
    });
    // The parser's errors come first: drift in a document that does not parse is secondary.
    const messages = [...parsed.messages.filter((message) => message.fatal === true), ...drift];
    print(io, 'check', file, messages);
    return exitCode(parsed, messages);
  });
}
