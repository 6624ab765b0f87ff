import { UnknownRunError } from './diagnostics.ts';
import { knownRunIds, latestRunId, readJournal, resumeStateOf, runsDir } from './journal/journal.ts';
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
  // An id names a folder under .runbook/runs/ and nothing else: no separators, no `..`.
  const known = id !== undefined && /^[\w.-]+$/.test(id) && !id.startsWith('.') && existsSync(path.join(runsDir(workspace), id, 'meta.json'));
  if (!known) throw new UnknownRunError(runId, knownRunIds(workspace));
  const dir = path.join(runsDir(workspace), id);
  const { meta, events } = readJournal(dir);
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
