import { RunbookInputError, diagnostic } from '../common/diagnostics.ts';
import { UsageError } from '../common/errors.ts';
import { EXIT } from '../common/exit.ts';
import { BrokenJournalError, readJournal, resumeStateOf, runsDir, type RunMeta } from './journal/journal.ts';
import path from 'node:path';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { runFile, type RunRequest, type RunResult } from './run.ts';

export type ResumeOutcome = { kind: 'finished'; runId: string; status: string; exitCode: number } | { kind: 'resumed'; result: RunResult };

/** Every run of the workspace with its meta, oldest first (run ids sort by start time). */
function runsOf(workspace: string): RunMeta[] {
  const dir = runsDir(workspace);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      try {
        return [JSON.parse(readFileSync(path.join(dir, name, 'meta.json'), 'utf8')) as RunMeta];
      } catch {
        return [];
      }
    });
}

/**
 * Continues an interrupted run: finished steps are not run again (their rollbacks still apply if the rest fails),
 * state is restored from the last snapshot, and a step that began but never ended is probed by its verify first. A run
 * that was rolling back only finishes its rollbacks. Only the latest run of a document on a target can be resumed: an
 * older one's rollbacks would undo what the newer run put in service.
 */
export async function resumeRun(
  workspace: string,
  runId: string | undefined,
  request: Omit<RunRequest, 'file' | 'target' | 'yes' | 'automate' | 'from' | 'only' | 'runId' | 'resume'>,
): Promise<ResumeOutcome> {
  const runs = runsOf(workspace);
  const id = runId ?? runs.at(-1)?.runId;
  // An id names a folder under .runbook/runs/ and nothing else: no separators, no `..`. An unknown one is a usage
  // mistake about a run, not a position in some file.
  const known = id !== undefined && /^[\w.-]+$/.test(id) && !id.startsWith('.') && existsSync(path.join(runsDir(workspace), id, 'meta.json'));
  if (!known) {
    const latest = runs.slice(-3).map((run) => run.runId).join(', ');
    throw new UsageError(
      runId === undefined
        ? 'no run to resume: this workspace has no journal under .runbook/runs/'
        : `unknown run \`${runId}\`, expected the id of a run of this workspace${latest ? ` (latest: ${latest})` : ' (it has none)'}`,
    );
  }
  const dir = path.join(runsDir(workspace), id);
  const { meta, events, broken } = readJournal(dir);
  // A journal that was changed after it was written cannot say which steps took effect: going on from it could
  // repeat or skip a step that matters. The operator decides, with `runbook audit` showing where it breaks.
  if (broken) throw new BrokenJournalError([broken]);
  const newer = runs.filter((run) => run.runId > meta.runId && run.file === meta.file && run.target === meta.target).at(-1);
  if (newer) {
    throw new RunbookInputError([
      diagnostic(`Unexpected resume of run ${meta.runId}, expected the latest run on target ${meta.target ?? 'local'}: run ${newer.runId} started after it, and what it put in service must not be undone`, {
        file: meta.file,
        ruleId: 'stale-run',
      }),
    ]);
  }
  const state = resumeStateOf(events);
  if (state.finished) return { kind: 'finished', runId: id, status: state.status ?? 'unknown', exitCode: state.exitCode ?? EXIT.failed };
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
    resume: { point: { completed: state.completed, unfinished: state.unfinished, rollback: state.rollback }, state: state.state },
  });
  return { kind: 'resumed', result };
}
