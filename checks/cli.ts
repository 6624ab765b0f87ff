import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatDiagnostic, hasErrors, severityOf, type Diagnostic } from '../runner/diagnostics.ts';
import { parseRunbook } from '../runner/parse/index.ts';
import { readBaseline, fingerprint, writeBaseline } from './drift/baseline.ts';
import { BindingsError, readBindings, writeBindings } from './drift/bindings.ts';
import { CONFIG_NAME, ConfigError, documentIgnored, findDocuments, readConfig } from './drift/documents.ts';
import { checkDocument, indexRepo } from './drift/index.ts';
import type { ReplayRunner } from './drift/types.ts';
import { lintRunbook } from './lint/index.ts';
import type { ParsedRunbook } from './rule.ts';

/** Exit codes of `runbook lint` and `runbook check` (SPEC: CLI). */
/** `internal` is sysexits' EX_SOFTWARE: the checker itself failed, which is neither drift nor a usage mistake. */
export const EXIT = { clean: 0, findings: 1, invalid: 2, internal: 70 } as const;

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
  /** The repo indexer (tests make it fail to see an internal error's exit code). */
  indexRepo?: typeof indexRepo;
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
  return parseRunbook(source, file);
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

interface CheckFlags {
  repo?: string;
  'max-age'?: string;
  replay?: boolean;
  update?: boolean;
  baseline?: string;
  config?: string;
}

/** A document's path inside the repo (links resolve from its folder), or undefined when it lives elsewhere. */
function insideRepo(repo: string, file: string): string | undefined {
  const relative = path.relative(repo, path.resolve(file)).split(path.sep).join('/');
  return relative.startsWith('..') || path.isAbsolute(relative) ? undefined : relative;
}

/**
 * `runbook check [FILE|GLOB...] [--repo DIR] [--max-age DAYS] [--replay] [--update] [--baseline FILE] [--config FILE]`:
 * every document over one index of the repo. Exit 0 clean, 1 drift, 2 invalid or usage, 70 an internal error.
 */
export async function checkCommand(args: string[], dependencies: CheckDependencies = {}): Promise<number> {
  const io = dependencies.io ?? processIO;
  try {
    return await guarded(io, 'check', () => runCheck(args, dependencies, io));
  } catch (error) {
    // Our bug, not the user's: its own exit code so CI tells "the gate broke" from "the docs drifted".
    io.stderr(`runbook check: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return EXIT.internal;
  }
}

async function runCheck(args: string[], dependencies: CheckDependencies, io: CommandIO): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      repo: { type: 'string' },
      'max-age': { type: 'string' },
      replay: { type: 'boolean' },
      update: { type: 'boolean' },
      baseline: { type: 'string' },
      config: { type: 'string' },
    },
  });
  const flags = values as CheckFlags;
  let maxAgeDays: number | undefined;
  if (flags['max-age'] !== undefined) {
    if (!/^\d+$/.test(flags['max-age'])) throw new UsageError(`--max-age expects a whole number of days, got \`${flags['max-age']}\``);
    maxAgeDays = Number(flags['max-age']);
  }
  const found = await findDocuments(positionals.length > 0 ? positionals : ['runbook.md'], process.cwd());
  for (const skipped of found.skipped) io.stderr(`runbook check: skipped ${skipped.path}: ${skipped.why}`);
  if (found.files.length === 0) throw new UsageError(`no document matches ${positionals.join(' ')}`);
  const repo = flags.repo !== undefined ? path.resolve(flags.repo) : defaultRepo(found.files[0]!);
  if (!existsSync(repo)) throw new UsageError(`platform repo not found: ${repo} (give one with --repo DIR)`);
  if (flags.replay && !dependencies.replay) throw new UsageError('--replay is not available in this build');
  if (flags.replay && found.files.length > 1) throw new UsageError('--replay runs one document, got ' + found.files.length);
  let config;
  try {
    config = await readConfig(flags.config !== undefined ? [flags.config] : [path.resolve(CONFIG_NAME), path.join(repo, CONFIG_NAME)]);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  const baseline = flags.baseline !== undefined && !flags.update ? await readBaseline(flags.baseline).catch((error: Error) => {
    throw new UsageError(error.message);
  }) : new Set<string>();
  const own = flags.baseline !== undefined ? [path.relative(repo, path.resolve(flags.baseline)).split(path.sep).join('/')] : [];
  const index = await (dependencies.indexRepo ?? indexRepo)(repo, { exclude: own });
  for (const skipped of index.skipped) io.stderr(`runbook check: skipped ${path.join(path.relative(process.cwd(), repo) || '.', skipped.path)}: ${skipped.why}`);
  const printed: Diagnostic[] = [];
  const accepted: string[] = [];
  let invalid = false;
  let checked = 0;
  for (const file of found.files) {
    const relative = insideRepo(repo, file);
    if (documentIgnored(config, relative ?? file)) continue;
    let parsed: ParsedRunbook;
    try {
      parsed = await load(file);
    } catch (error) {
      // One unreadable document among many is a note; the only document given is a usage error (as for lint).
      if (error instanceof UsageError && found.files.length > 1) {
        io.stderr(`runbook check: skipped ${error.message.replace(/^cannot read /, '')}`);
        continue;
      }
      throw error;
    }
    checked++;
    let bindings;
    try {
      bindings = await readBindings(file);
    } catch (error) {
      if (error instanceof BindingsError) throw new UsageError(error.message);
      throw error;
    }
    const outcome = await checkDocument(parsed, {
      repo: index,
      documentPath: relative,
      bindings,
      ignore: config.ignore,
      maxAgeDays,
      now: dependencies.now,
      replay: flags.replay ? dependencies.replay : undefined,
    });
    if (flags.update) {
      const written = await writeBindings(file, outcome.bindings, path.relative(path.dirname(path.resolve(file)), repo).split(path.sep).join('/') || '.');
      io.stderr(`runbook check: wrote ${written} (${outcome.bindings.length} claims)`);
    }
    // The parser's errors come first: drift in a document that does not parse is secondary.
    const messages = [...parsed.messages.filter((message) => message.fatal === true), ...outcome.diagnostics];
    if (hasErrors(parsed.messages)) invalid = true;
    for (const message of messages) {
      const key = fingerprint(relative ?? file, message);
      if (flags.update && flags.baseline !== undefined) accepted.push(key);
      else if (!baseline.has(key)) printed.push(message);
    }
  }
  if (flags.update && flags.baseline !== undefined) {
    await writeBaseline(flags.baseline, accepted);
    io.stderr(`runbook check: wrote ${flags.baseline} (${accepted.length} accepted findings)`);
  }
  for (const message of printed) io.stdout(formatDiagnostic(message));
  io.stderr(summary('check', found.files.length === 1 ? found.files[0]! : `${checked} documents`, printed));
  if (invalid) return EXIT.invalid;
  return printed.length > 0 ? EXIT.findings : EXIT.clean;
}

/** `runbook validate` refreshes the bindings of the document it stamped (what it found true is now the record). */
export async function refreshBindings(file: string, repo = defaultRepo(file)): Promise<string> {
  const parsed = await load(file);
  const outcome = await checkDocument(parsed, { repo, documentPath: insideRepo(repo, file), bindings: await readBindings(file) });
  return writeBindings(file, outcome.bindings, path.relative(path.dirname(path.resolve(file)), repo).split(path.sep).join('/') || '.');
}
