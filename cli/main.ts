/**
 * The one `runbook` program: parses flags with commander and calls each command with typed options. This folder is
 * the only one that wires runner, checks and sandbox together (the embedded sandbox, the replay for `check`).
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT } from '../common/exit.ts';
import { processIO } from '../common/io.ts';
import { REPORTERS } from '../runner/report/index.ts';
import type { CheckOptions } from './commands/checks.ts';
import type { PlanOptions, ReportOptions, RunOptions } from './commands/run.ts';
import { addSandboxCommands } from './commands/sandbox.ts';
import { exitFor } from './guard.ts';

// Each command's module loads when that command runs: `lint` and `check` bring the TypeScript compiler and the drift
// index, `run` the engine; `--help`, `plan` and a run must not pay for what they never call.
const runCommands = () => import('./commands/run.ts');
const checkCommands = () => import('./commands/checks.ts');

/** The flags of every command that reports a run: which reporters, and the folder for file reports. */
function reportOptions(command: Command): Command {
  return command
    .addOption(new Option('--reporter <names>', `comma-separated, at most one on stdout: ${Object.keys(REPORTERS).join(', ')} (default: pretty on a terminal, else plain)`))
    .option('--out <dir>', 'folder for file reports (junit, markdown, html); required by them');
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
      .option('--only <id>', 'run only this step')
      .option('--take-over-lock <run-id>', "take the target's lock from this run, which you know is gone (its machine crashed)"),
  ).action(async (file: string, flags: Omit<RunOptions, 'file'>) => onResult(await (await runCommands()).runCommand({ ...flags, file })));

  program
    .command('plan')
    .description('list the steps in order with their blocks, lines and attributes; runs nothing')
    .argument('[file]', 'the runbook', 'runbook.md')
    .option('--json', 'machine-readable output')
    .option('--target <name>', 'plan for this target')
    .action(async (file: string, flags: Omit<PlanOptions, 'file'>) => onResult(await (await runCommands()).planCommand({ ...flags, file })));

  program
    .command('lint')
    .description('hygiene rules: secrets printed or on command lines, mutating steps without verify or rollback, ... (exit 0 clean, 1 findings)')
    .argument('[file]', 'the runbook', 'runbook.md')
    .action(async (file: string) => onResult(await (await checkCommands()).lintCommand({ file })));
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
    .action(async (files: string[], flags: Omit<CheckOptions, 'file' | 'files'>) => {
      const [{ createReplay }, { embeddedSandbox }, { checkCommand }] = await Promise.all([import('./replay.ts'), import('./sandbox-provider.ts'), checkCommands()]);
      onResult(await checkCommand({ ...flags, files }, { replay: createReplay(embeddedSandbox, process.cwd()) }));
    });
  reportOptions(
    program
      .command('resume')
      .description('continue an interrupted run from its journal (default: the latest run)')
      .argument('[run-id]', 'a folder name under .runbook/runs/')
      .option('--take-over-lock <run-id>', "take the target's lock from this run, which you know is gone (its machine crashed)"),
  ).action(async (runId: string | undefined, flags: ReportOptions & { takeOverLock?: string }) => onResult(await (await runCommands()).resumeCommand({ ...flags, runId })));
  reportOptions(
    program
      .command('validate')
      .description('quarterly validation: the full run on the sandbox; on success stamps last-validated and validation-method')
      .argument('[file]', 'the runbook', 'runbook.md')
      .option('--target <name>', 'the sandbox target (default: sandbox)'),
  ).action(async (file: string, flags: ReportOptions & { target?: string }) => onResult(await (await runCommands()).validateCommand({ ...flags, file })));
  program
    .command('audit')
    .description("print a run's record from its journal and verify the journal's digest chain (exit 0, 1 broken)")
    .argument('<run-id>', 'a folder name under .runbook/runs/')
    .action(async (runId: string) => onResult(await (await runCommands()).auditCommand({ runId })));
  addSandboxCommands(program, onResult);
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
    return exitFor('', processIO, error);
  }
}
