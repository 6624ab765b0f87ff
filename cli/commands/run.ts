import { existsSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../common/errors.ts';
import { EXIT } from '../../common/exit.ts';
import { processIO, type CommandIO } from '../../common/io.ts';
import type { Interaction } from '../../runner/execute/engine.ts';
import type { Reporter } from '../../runner/report/events.ts';
import { chooseReporters, REPORTERS } from '../../runner/report/index.ts';
import { guard } from '../guard.ts';
import { embeddedSandbox } from '../sandbox-provider.ts';

// The engine (remark, zx, expect, ...) is loaded by the commands that run a document, not by `--help` or `sandbox`.
const engine = () => import('../../runner/run.ts');

export interface ReportOptions {
  /** Comma-separated reporter names, at most one on stdout (default: the live view, pretty at a terminal, else plain). */
  reporter?: string;
  /** Folder for file reports (junit, markdown, html); they refuse to run without it. */
  out?: string;
}

/** `--take-over-lock RUN_ID`: the operator states that the run holding the target's lock is gone. */
interface LockOptions {
  takeOverLock?: string;
}

export interface RunOptions extends ReportOptions, LockOptions {
  file: string;
  target?: string;
  yes?: boolean;
  automate?: boolean;
  from?: string;
  only?: string;
}

export interface ResumeOptions extends ReportOptions, LockOptions {
  runId?: string;
}

export interface ValidateOptions extends ReportOptions {
  file: string;
  target?: string;
}

export interface PlanOptions {
  file: string;
  json?: boolean;
  target?: string;
}

/** One live view on stdout, file reports only under `--out` (see chooseReporters). */
async function createReporters(requested: string | undefined, outDir: string | undefined, io: CommandIO): Promise<Reporter[]> {
  const choice = chooseReporters(requested, outDir);
  if ('error' in choice) throw new UsageError(choice.error);
  for (const note of choice.notes) io.stderr(`runbook: ${note}`);
  return Promise.all(choice.names.map((name) => REPORTERS[name]!.create({ outDir })));
}

/** Prompts only for a person at a terminal (and loaded only then); CI never waits on a question. */
async function operatorInteraction(): Promise<Interaction | undefined> {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY) && !process.env['CI'];
  return interactive ? (await import('../../runner/execute/interaction.ts')).terminalInteraction() : undefined;
}

/**
 * The first SIGINT/SIGTERM interrupts (the block is stopped, rollbacks run); a second stops the rollbacks too (the run
 * names those left and exits 130; `runbook resume` does them); a third exits at once (the journal allows resume).
 */
function interruptOnSignals(io: CommandIO): { signal: AbortSignal; stop: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const stop = new AbortController();
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count += 1;
    if (count > 2) process.exit(EXIT.interrupted);
    if (count === 2) {
      io.stderr(`\n${signal}: stopping the rollbacks; \`runbook resume\` finishes them (again to exit now)`);
      stop.abort();
      return;
    }
    io.stderr(`\n${signal}: interrupting; rolling back what took effect (again to stop the rollbacks)`);
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    stop: stop.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** What every command that runs a document sets up and tears down: its reporters, and SIGINT/SIGTERM as interrupt. */
function runSession(
  command: string,
  options: ReportOptions,
  io: CommandIO,
  body: (reporters: Reporter[], interrupt: AbortSignal, stop: AbortSignal) => Promise<number>,
): Promise<number> {
  return guard(command, io, async () => {
    const reporters = await createReporters(options.reporter, options.out, io);
    const signals = interruptOnSignals(io);
    try {
      return await body(reporters, signals.signal, signals.stop);
    } finally {
      signals.dispose();
    }
  });
}

/** `runbook run`: exit 0 passed, 1 failed (after rollbacks), 2 invalid, 130 interrupted. */
export function runCommand(options: RunOptions, io: CommandIO = processIO): Promise<number> {
  return runSession('run', options, io, async (reporters, interrupt, stop) => {
    const { runFile } = await engine();
    const result = await runFile({
      file: options.file,
      target: options.target,
      yes: options.yes,
      automate: options.automate,
      from: options.from,
      only: options.only,
      reporters,
      interaction: await operatorInteraction(),
      sandbox: embeddedSandbox,
      interrupt,
      stop,
      workspace: process.cwd(),
      takeOverLock: options.takeOverLock,
    });
    return result.exitCode;
  });
}

/** `runbook resume [RUN_ID]`: as run; a run that already ended exits with its recorded code. */
export function resumeCommand(options: ResumeOptions, io: CommandIO = processIO): Promise<number> {
  return runSession('resume', options, io, async (reporters, interrupt, stop) => {
    const { resumeRun } = await import('../../runner/resume.ts');
    const outcome = await resumeRun(process.cwd(), options.runId, { reporters, interaction: await operatorInteraction(), sandbox: embeddedSandbox, interrupt, stop, takeOverLock: options.takeOverLock });
    if (outcome.kind === 'finished') {
      io.stderr(`runbook: run ${outcome.runId} already ended (${outcome.status}); nothing to resume`);
      return outcome.exitCode;
    }
    return outcome.result.exitCode;
  });
}

/** `runbook validate [FILE]`: the full run on the sandbox; stamps the document only when it passed. */
export function validateCommand(options: ValidateOptions, io: CommandIO = processIO): Promise<number> {
  return runSession('validate', options, io, async (reporters, interrupt) => {
    const { validateRunbook } = await import('../../runner/validate.ts');
    const { run, stamped } = await validateRunbook({ file: options.file, target: options.target, reporters, sandbox: embeddedSandbox, interrupt, workspace: process.cwd() });
    if (stamped) {
      io.stderr(`runbook: validated; stamped ${options.file} last-validated: ${stamped.date}`);
      // What the validated document claims is now the record its drift checks compare with (issue 13).
      const { refreshBindings } = await import('./checks.ts');
      const written = await refreshBindings(options.file).catch((error: Error) => {
        io.stderr(`runbook: bindings not refreshed: ${error.message}`);
        return undefined;
      });
      if (written) io.stderr(`runbook: refreshed ${written}`);
    } else io.stderr(`runbook: validation failed; ${options.file} was not stamped`);
    return run.exitCode;
  });
}

/** `runbook plan [FILE]`: the steps in order with their blocks; runs nothing. */
export function planCommand(options: PlanOptions, io: CommandIO = processIO): Promise<number> {
  return guard('plan', io, async () => {
    const { file } = options;
    const { loadRunbook } = await import('../../runner/load.ts');
    const { planRun, touches } = await import('../../runner/plan/index.ts');
    // The cache `run` keeps in this folder, when there is one: an unchanged document's model is read back, not parsed
    // again. A folder no run has used gets no `.runbook/` from a command that changes nothing.
    const cacheDir = path.resolve('.runbook', 'cache');
    const runbook = await loadRunbook(file, existsSync(path.dirname(cacheDir)) ? cacheDir : undefined);
    const { chooseTarget } = await import('../../runner/target.ts');
    // Validated exactly as `run` does: an unknown target is a usage error (exit 2), not an empty plan.
    const target = chooseTarget(runbook, options.target);
    const plan = planRun(runbook, { target });
    const rows = plan.flatMap(({ step, skip }) => [
      { id: step.id, role: 'step', line: step.block.span.start.line, attributes: step.block.attributes, touches: touches(step), skip },
      ...[...step.verifies, ...step.expects, ...(step.rollback ? [step.rollback] : [])].map((block) => ({
        id: step.id,
        role: block.role,
        line: block.span.start.line,
        attributes: block.attributes,
        touches: [] as string[],
        skip,
      })),
    ]);
    if (options.json) {
      io.stdout(JSON.stringify({ file, target: target ?? null, steps: rows }, null, 2));
      return EXIT.ok;
    }
    for (const row of rows) {
      const attributes = Object.entries(row.attributes)
        .map(([key, value]) => (value === true ? key : `${key}=${value}`))
        .join(' ');
      const indent = row.role === 'step' ? '' : '  ';
      const extra = [attributes, row.touches.length ? `touches ${row.touches.join(', ')}` : '', row.skip ? `(skipped: ${row.skip})` : '']
        .filter(Boolean)
        .join('  ');
      io.stdout(`${indent}${file}:${row.line}  ${row.role.padEnd(8)} ${row.role === 'step' ? row.id : ''}${extra ? `  ${extra}` : ''}`);
    }
    return EXIT.ok;
  });
}

/** `runbook audit RUN_ID`: the run's record from its journal, and whether the journal's digest chain holds (0, or 1). */
export function auditCommand(options: { runId: string }, io: CommandIO = processIO): Promise<number> {
  return guard('audit', io, async () => {
    const { auditRun } = await import('../../runner/audit.ts');
    return auditRun(process.cwd(), options.runId, (line) => io.stdout(line));
  });
}
