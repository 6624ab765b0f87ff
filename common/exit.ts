/**
 * The one table of exit codes, for every command (README: CLI). The engine and the sandbox commands name their
 * outcome from here; the CLI maps errors to it in one place.
 */
export const EXIT = {
  /** Passed, clean, or nothing to do. */
  ok: 0,
  /** A step, verify or expect failed (after rollbacks); lint findings; drift; the sandbox is not running. */
  failed: 1,
  /** An invalid document or invocation: positioned diagnostics or one usage line. */
  usage: 2,
  /** The run lock is held by another run (the message names the holder): try again later (sysexits EX_TEMPFAIL). */
  locked: 75,
  /** A bug in runbook itself, printed with its stack (sysexits EX_SOFTWARE). */
  internal: 70,
  /** Interrupted by SIGINT/SIGTERM, after rollbacks (128 + SIGINT). */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
