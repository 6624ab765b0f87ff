import { existsSync } from 'node:fs';
import path from 'node:path';
import { hasErrors, messageLines, severityOf, type Diagnostic } from '../../common/diagnostics.ts';
import { UsageError } from '../../common/errors.ts';
import { EXIT } from '../../common/exit.ts';
import { processIO, type CommandIO } from '../../common/io.ts';
import { fingerprint, readBaseline, writeBaseline } from '../../checks/drift/baseline.ts';
import { BindingsError, readBindings, writeBindings } from '../../checks/drift/bindings.ts';
import { CONFIG_NAME, ConfigError, documentIgnored, findDocuments, readConfig } from '../../checks/drift/documents.ts';
import { checkDocument, indexRepo } from '../../checks/drift/index.ts';
import type { ReplayRunner } from '../../checks/drift/types.ts';
import { lintRunbook } from '../../checks/lint/index.ts';
import type { ParsedRunbook } from '../../checks/rule.ts';
import { parseRunbookFile } from '../../runner/load.ts';
import { guard } from '../guard.ts';

export interface LintOptions {
  file: string;
}

export interface CheckOptions {
  /** One document (the single-file form, default `runbook.md`). */
  file?: string;
  // Documents or globs (`docs/**/*.md`), expanded here so CI need not rely on the shell.
  files?: string[];
  /** The platform repository (relative to the cwd); default: see defaultRepo. */
  repo?: string;
  /** Whole days, overriding `review-every` (a string as typed: validated here). */
  maxAge?: string;
  replay?: boolean;
  /** Rewrite each document's bindings file (`<doc>.drift.json`) with what its claims resolve to now. */
  update?: boolean;
  /** Findings listed there are accepted; with `update`, the current findings are written there. */
  baseline?: string;
  /** The repository configuration of ignores (default: `.runbook-drift.yml` here, else at the repo root). */
  config?: string;
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

/** A document's path inside the repo (links resolve from its folder), or undefined when it lives elsewhere. */
function insideRepo(repo: string, file: string): string | undefined {
  const relative = path.relative(repo, path.resolve(file)).split(path.sep).join('/');
  return relative.startsWith('..') || path.isAbsolute(relative) ? undefined : relative;
}

const repoFromDocument = (repo: string, file: string) => path.relative(path.dirname(path.resolve(file)), repo).split(path.sep).join('/') || '.';

/**
 * `runbook check [FILE|GLOB...] [--repo DIR] [--max-age DAYS] [--replay] [--update] [--baseline FILE] [--config FILE]`:
 * every document over one index of the repo. Exit 0 clean, 1 drift, 2 invalid or usage, 70 an internal error.
 */
export function checkCommand(options: CheckOptions, dependencies: CheckDependencies = {}): Promise<number> {
  const io = dependencies.io ?? processIO;
  return guard('check', io, async () => {
    let maxAgeDays: number | undefined;
    if (options.maxAge !== undefined) {
      if (!/^\d+$/.test(options.maxAge)) throw new UsageError(`--max-age expects a whole number of days, got \`${options.maxAge}\``);
      maxAgeDays = Number(options.maxAge);
    }
    const patterns = options.files?.length ? options.files : [options.file ?? 'runbook.md'];
    const found = await findDocuments(patterns, process.cwd());
    for (const skipped of found.skipped) io.stderr(`runbook check: skipped ${skipped.path}: ${skipped.why}`);
    if (found.files.length === 0) throw new UsageError(`no document matches ${patterns.join(' ')}`);
    const repo = options.repo !== undefined ? path.resolve(options.repo) : defaultRepo(found.files[0]!);
    if (!existsSync(repo)) throw new UsageError(`platform repo not found: ${repo} (give one with --repo DIR)`);
    if (options.replay && !dependencies.replay) throw new UsageError('--replay is not available in this build');
    if (options.replay && found.files.length > 1) throw new UsageError(`--replay runs one document, got ${found.files.length}`);
    let config;
    try {
      config = await readConfig(options.config !== undefined ? [options.config] : [path.resolve(CONFIG_NAME), path.join(repo, CONFIG_NAME)]);
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(error.message);
      throw error;
    }
    let baseline = new Set<string>();
    if (options.baseline !== undefined && !options.update) {
      try {
        baseline = await readBaseline(options.baseline);
      } catch (error) {
        throw new UsageError(`cannot read baseline ${options.baseline}: ${(error as Error).message}`);
      }
    }
    // The checker's own baseline is not the repository's code.
    const own = options.baseline !== undefined ? [path.relative(repo, path.resolve(options.baseline)).split(path.sep).join('/')] : [];
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
        parsed = await parseRunbookFile(file);
      } catch (error) {
        // One unreadable document among many is a note; the only document given is a usage error (as for lint).
        if (error instanceof UsageError && found.files.length > 1) {
          io.stderr(`runbook check: skipped ${file}: ${error.message}`);
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
        replay: options.replay ? dependencies.replay : undefined,
      });
      if (options.update) {
        const written = await writeBindings(file, outcome.bindings, repoFromDocument(repo, file));
        io.stderr(`runbook check: wrote ${written} (${outcome.bindings.length} claims)`);
      }
      // The parser's errors come first: drift in a document that does not parse is secondary.
      const messages = [...parsed.messages.filter((message) => message.fatal === true), ...outcome.diagnostics];
      if (hasErrors(parsed.messages)) invalid = true;
      for (const message of messages) {
        const key = fingerprint(relative ?? file, message);
        if (options.update && options.baseline !== undefined) accepted.push(key);
        else if (!baseline.has(key)) printed.push(message);
      }
    }
    if (options.update && options.baseline !== undefined) {
      await writeBaseline(options.baseline, accepted);
      io.stderr(`runbook check: wrote ${options.baseline} (${accepted.length} accepted findings)`);
    }
    print(io, 'check', found.files.length === 1 ? found.files[0]! : `${checked} documents`, printed);
    if (invalid) return EXIT.usage;
    return printed.length > 0 ? EXIT.failed : EXIT.ok;
  });
}

/** `runbook validate` refreshes the bindings of the document it stamped: what it found true is now the record. */
export async function refreshBindings(file: string, repo = defaultRepo(file)): Promise<string> {
  const parsed = await parseRunbookFile(file);
  const outcome = await checkDocument(parsed, { repo, documentPath: insideRepo(repo, file), bindings: await readBindings(file) });
  return writeBindings(file, outcome.bindings, repoFromDocument(repo, file));
}
