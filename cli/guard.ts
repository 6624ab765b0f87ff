import { formatDiagnostic, messageLines, RunbookInputError } from '../common/diagnostics.ts';
import { UsageError } from '../common/errors.ts';
import { EXIT } from '../common/exit.ts';
import type { CommandIO } from '../common/io.ts';
import { BrokenJournalError } from '../runner/journal/journal.ts';
import { LockedError, LockUnavailableError } from '../runner/lock/holder.ts';

/**
 * The one place errors become exit codes: a document's mistakes print as positioned diagnostics, a usage mistake or
 * a refused lock as one line naming the command, anything else is a bug in runbook and keeps its stack.
 */
export async function guard(command: string, io: CommandIO, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    return exitFor(command, io, error);
  }
}

export function exitFor(command: string, io: CommandIO, error: unknown): number {
  const prefix = command ? `runbook ${command}` : 'runbook';
  if (error instanceof RunbookInputError) {
    for (const message of error.diagnostics) io.stderr(formatDiagnostic(message));
    return EXIT.usage;
  }
  if (error instanceof UsageError) {
    io.stderr(`${prefix}: ${error.message}`);
    return EXIT.usage;
  }
  if (error instanceof BrokenJournalError) {
    for (const message of error.diagnostics) for (const line of messageLines(message)) io.stderr(line);
    io.stderr(`${prefix}: refusing to resume from a broken journal (runbook audit RUN_ID shows the record)`);
    return EXIT.failed;
  }
  if (error instanceof LockedError) {
    io.stderr(`${prefix}: ${error.message}`);
    return EXIT.locked;
  }
  if (error instanceof LockUnavailableError) {
    io.stderr(`${prefix}: ${error.message}`);
    return EXIT.failed;
  }
  io.stderr(`${prefix}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return EXIT.internal;
}
