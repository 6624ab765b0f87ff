import { diagnostic, RunbookInputError } from './diagnostics.ts';
import { BrokenJournalError, latestRunId, readJournal, resumeStateOf, runsDir } from './journal/journal.ts';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { runFile, type RunRequest, type RunResult } from './run.ts';

export type ResumeOutcome = { kind: 'finished'; runId: string; status: string; exitCode: number } | { kind: 'resumed'; result: RunResult };

/**
 * Continues an interrupted run: finished steps are not run again (their rollbacks still apply if the rest fails),
 * state is restored from the last snapshot, and a step that began but never ended is probed by its verify first.
 */
export async function resumeRun(
  workspace: string,
  runId: string | undefined,
  request: Omit<RunRequest, 'file' | 'target' | 'yes' | 'automate' | 'from' | 'only' | 'runId' | 'resume'>,
): Promise<ResumeOutcome> {
  const id = runId ?? latestRunId(workspace);
  const dir = id ? path.join(runsDir(workspace), id) : undefined;
  if (!id || !dir || !existsSync(path.join(dir, 'meta.json'))) {
    throw new RunbookInputError([
      diagnostic(runId ? `Unexpected run id \`${runId}\`, expected a folder under ${runsDir(workspace)}` : `Unexpected resume with no runs, expected a journal under ${runsDir(workspace)}`, {
        file: workspace,
        ruleId: 'unknown-run',
      }),
    ]);
  }
  const { meta, events, broken } = readJournal(dir);
  // A journal that was changed after it was written cannot say which steps took effect: going on from it could
  // repeat or skip a step that matters. The operator decides, with `runbook audit` showing where it breaks.
  if (broken) throw new BrokenJournalError([broken]);
  const state = resumeStateOf(events);
  if (state.finished) return { kind: 'finished', runId: id, status: state.status ?? 'unknown', exitCode: state.exitCode ?? 1 };
  const result = await runFile({
    ...request,
    file: meta.file,
    target: meta.target,
    yes: meta.yes,
    automate: meta.automate,
    from: meta.from,
    only: meta.only,
    runId: id,
    workspace,
    resume: { point: { completed: state.completed, unfinished: state.unfinished }, state: state.state },
  });
  return { kind: 'resumed', result };
}
