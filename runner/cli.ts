import { Command, CommanderError, Option } from 'commander';
import { formatDiagnostic, RunbookInputError } from './diagnostics.ts';
import type { Interaction } from './execute/engine.ts';
import type { Reporter } from './report/events.ts';
import { defaultReporter, REPORTERS } from './report/index.ts';
import { LockedError } from './journal/lock.ts';
import { embeddedSandbox } from './sandbox-provider.ts';

// The engine (remark, zx, expect, ...) is loaded by the commands that run a document, not by `--help` or `sandbox`.
const engine = () => import('./run.ts');

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

function printDiagnostics(error: RunbookInputError): void {
  for (const message of error.diagnostics) process.stderr.write(`${formatDiagnostic(message)}\n`);
}

async function createReporters(names: string, outDir: string): Promise<Reporter[]> {
  const factories = names
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
    .map((name) => {
      const factory = REPORTERS[name];
      if (!factory) throw new UsageError(`unknown reporter \`${name}\`, expected one of: ${Object.keys(REPORTERS).join(', ')}`);
      return factory;
    });
  return Promise.all(factories.map((factory) => factory({ outDir })));
}

/** Prompts only for a person at a terminal (and loaded only then); CI never waits on a question. */
async function operatorInteraction(): Promise<Interaction | undefined> {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY) && !process.env['CI'];
  return interactive ? (await import('./execute/interaction.ts')).terminalInteraction() : undefined;
}

class UsageError extends Error {}

interface ReportFlags {
  reporter?: string;
  out: string;
}

interface RunFlags extends ReportFlags {
  target?: string;
  yes?: boolean;
  automate?: boolean;
  from?: string;
  only?: string;
}

/** Interrupts on the first SIGINT/SIGTERM (rollbacks run); a second one exits at once (the journal allows resume). */
function interruptOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count += 1;
    if (count > 1) process.exit(EXIT.interrupted);
    process.stderr.write(`\n${signal}: interrupting; rolling back completed steps (again to exit now)\n`);
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** What every command that runs a document sets up and tears down: its reporters, and SIGINT/SIGTERM as interrupt. */
async function runSession(flags: ReportFlags, body: (reporters: Reporter[], interrupt: AbortSignal) => Promise<number>): Promise<number> {
  const reporters = await createReporters(flags.reporter ?? defaultReporter(), flags.out);
  const signals = interruptOnSignals();
  try {
    return await body(reporters, signals.signal);
  } finally {
    signals.dispose();
  }
}

function runCommand(file: string, flags: RunFlags): Promise<number> {
  return runSession(flags, async (reporters, interrupt) => {
    const { runFile } = await engine();
    const result = await runFile({
      file,
      target: flags.target,
      yes: flags.yes,
      automate: flags.automate,
      from: flags.from,
      only: flags.only,
      reporters,
      interaction: await operatorInteraction(),
      sandbox: embeddedSandbox,
      interrupt,
      workspace: process.cwd(),
    });
    return result.exitCode;
  });
}

function resumeCommand(runId: string | undefined, flags: ReportFlags): Promise<number> {
  return runSession(flags, async (reporters, interrupt) => {
    const { resumeRun } = await import('./resume.ts');
    const outcome = await resumeRun(process.cwd(), runId, { reporters, interaction: await operatorInteraction(), sandbox: embeddedSandbox, interrupt });
    if (outcome.kind === 'finished') {
      process.stderr.write(`runbook: run ${outcome.runId} already ended (${outcome.status}); nothing to resume\n`);
      return outcome.exitCode;
    }
    return outcome.result.exitCode;
  });
}

function validateCommand(file: string, flags: RunFlags): Promise<number> {
  return runSession(flags, async (reporters, interrupt) => {
    const { validateRunbook } = await import('./validate.ts');
    const { run, stamped } = await validateRunbook({ file, target: flags.target, reporters, sandbox: embeddedSandbox, interrupt, workspace: process.cwd() });
    if (stamped) {
      process.stderr.write(`runbook: validated; stamped ${file} last-validated: ${stamped.date}\n`);
      // What the validated document claims is now the record its drift checks compare with.
      const written = await (await import('../checks/cli.ts')).refreshBindings(file).catch((error: Error) => {
        process.stderr.write(`runbook: bindings not refreshed: ${error.message}\n`);
        return undefined;
      });
      if (written) process.stderr.write(`runbook: refreshed ${written}\n`);
    }
    else process.stderr.write(`runbook: validation failed; ${file} was not stamped\n`);
    return run.exitCode;
  });
}

/** The flags of every command that reports a run: which reporters, and the folder for file reports. */
function reportOptions(command: Command): Command {
  return command
    .addOption(new Option('--reporter <names>', `comma-separated: ${Object.keys(REPORTERS).join(', ')}`))
    .option('--out <dir>', 'folder for file reports', 'runbook-reports');
}

async function planCommand(file: string, flags: { json?: boolean; target?: string }): Promise<number> {
  const { loadRunbook } = await import('./load.ts');
  const { planRun, touches } = await import('./plan/index.ts');
  const runbook = await loadRunbook(file);
  const target = flags.target ?? runbook.frontMatter.defaultTarget;
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
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ file, target: target ?? null, steps: rows }, null, 2)}\n`);
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
    process.stdout.write(`${indent}${file}:${row.line}  ${row.role.padEnd(8)} ${row.role === 'step' ? row.id : ''}${extra ? `  ${extra}` : ''}\n`);
  }
  return EXIT.ok;
}

export function buildProgram(onResult: (code: number) => void): Command {
  const program = new Command('runbook')
    .description('Executable, literate runbooks: run, plan, lint and check Markdown runbooks.')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  reportOptions(
    program
      .command('run')
      .description('execute a runbook (exit 0 passed, 1 a step failed after rollbacks, 2 invalid, 130 interrupted)')
      .argument('[file]', 'the runbook', 'runbook.md')
      .option('--target <name>', "target profile (default: the runbook's default-target)")
      .option('--yes', 'answer yes to confirm steps')
      .option('--automate', 'run the automation of manual steps instead of waiting for the operator')
      .option('--from <id>', 'start at this step')
      .option('--only <id>', 'run only this step'),
  ).action(async (file: string, flags: RunFlags) => onResult(await runCommand(file, flags)));

  program
    .command('plan')
    .description('list the steps in order with their blocks, lines and attributes; runs nothing')
    .argument('[file]', 'the runbook', 'runbook.md')
    .option('--json', 'machine-readable output')
    .option('--target <name>', 'plan for this target')
    .action(async (file: string, flags: { json?: boolean; target?: string }) => onResult(await planCommand(file, flags)));

  const passthrough = (name: string, description: string, handler: (args: string[]) => Promise<number>) =>
    program
      .command(name)
      .description(description)
      .allowUnknownOption()
      .helpOption(false)
      .argument('[args...]')
      .action(async (args: string[]) => onResult(await handler(args ?? [])));

  program
    .command('lint')
    .description('hygiene rules: secrets printed or on command lines, mutating steps without verify or rollback, ... (exit 0 clean, 1 findings)')
    .argument('[file]', 'the runbook', 'runbook.md')
    .action(async (file: string) => onResult(await (await import('../checks/cli.ts')).lintCommand([file])));
  program
    .command('check')
    .description('drift against the platform repo, freshness of runbooks, and with --replay a run on the sandbox (exit 0, 1 drift, 2 usage, 70 internal error)')
    .argument('[files...]', "documents or quoted globs ('docs/**/*.md')", ['runbook.md'])
    .option('--repo <dir>', 'the platform repository (default: fixtures/platform)')
    .option('--max-age <days>', 'overrides review-every')
    .option('--replay', 'run the runbook on its sandbox target; failing verify and expect blocks are drift')
    .option('--update', "rewrite each document's bindings file (<doc>.drift.json) with what its claims resolve to now")
    .option('--baseline <file>', 'findings listed there are accepted; with --update, write the current findings there')
    .option('--config <file>', 'repository configuration of ignores (default: .runbook-drift.yml here or at the repo root)')
    .action(async (files: string[], flags: { repo?: string; maxAge?: string; replay?: boolean; update?: boolean; baseline?: string; config?: string }) => {
      const args = [
        ...files,
        ...(flags.repo ? ['--repo', flags.repo] : []),
        ...(flags.maxAge ? ['--max-age', flags.maxAge] : []),
        ...(flags.replay ? ['--replay'] : []),
        ...(flags.update ? ['--update'] : []),
        ...(flags.baseline ? ['--baseline', flags.baseline] : []),
        ...(flags.config ? ['--config', flags.config] : []),
      ];
      const { checkCommand } = await import('../checks/cli.ts');
      const { createReplay } = await import('./replay.ts');
      onResult(await checkCommand(args, { replay: createReplay(embeddedSandbox, process.cwd()) }));
    });
  reportOptions(
    program
      .command('resume')
      .description('continue an interrupted run from its journal (default: the latest run)')
      .argument('[run-id]', 'a folder name under .runbook/runs/'),
  ).action(async (runId: string | undefined, flags: ReportFlags) => onResult(await resumeCommand(runId, flags)));
  reportOptions(
    program
      .command('validate')
      .description('quarterly validation: the full run on the sandbox; on success stamps last-validated and validation-method')
      .argument('[file]', 'the runbook', 'runbook.md')
      .option('--target <name>', 'the sandbox target (default: sandbox)'),
  ).action(async (file: string, flags: RunFlags) => onResult(await validateCommand(file, flags)));
  passthrough('sandbox', 'the sandbox tenant on its own: up | down | status', async (args) => (await import('../sandbox/cli.ts')).sandboxCommand(args));
  return program;
}

/** Runs the CLI and returns the exit code; user mistakes print positioned diagnostics, never stack traces. */
export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((result) => {
    code = result;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof RunbookInputError) {
      printDiagnostics(error);
      return EXIT.usage;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`runbook: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof LockedError) {
      process.stderr.write(`runbook: ${error.message}\n`);
      return EXIT.failed;
    }
    process.stderr.write(`runbook: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return EXIT.failed;
  }
}

