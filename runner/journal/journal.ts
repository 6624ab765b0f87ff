import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync, writeSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { RunEvent } from '../report/events.ts';

/** What a run was asked to do; `resume` replays it with the same answers. */
export interface RunMeta {
  runId: string;
  file: string;
  target?: string;
  yes: boolean;
  automate: boolean;
  from?: string;
  only?: string;
  startedAt: string;
}

/**
 * Events after which a crash of the machine must not lose the record (a killed process loses nothing either way: the
 * page cache survives it). A step's begin is the one that matters: it is what tells `resume` that the step may have
 * taken effect, and its sync also makes the previous step's end and state snapshot durable. A step whose end or
 * snapshot was lost is probed by its verify on resume, never blindly run again. One data sync per step.
 */
const DURABLE = new Set<RunEvent['kind']>(['run-begin', 'step-begin', 'rollback-plan', 'rollback-begin', 'rollback-end', 'forward-fix', 'operator', 'run-end']);

export function runsDir(workspace: string): string {
  return path.join(workspace, '.runbook', 'runs');
}

/**
 * Append-only record of a run: one redacted event per line in `.runbook/runs/<id>/journal.jsonl`, fsynced after every
 * event that changes what a resume would do. The lines of one turn of the event loop go out in one write, at the
 * latest when the turn ends (a killed process loses at most that turn's output lines); a durable event writes
 * whatever is pending with it, then syncs.
 */
export class Journal {
  readonly dir: string;
  readonly #fd: number;
  #pending = '';
  #scheduled = false;
  #closed = false;

  constructor(workspace: string, meta: RunMeta) {
    this.dir = path.join(runsDir(workspace), meta.runId);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const metaPath = path.join(this.dir, 'meta.json');
    if (!existsSync(metaPath)) writeFileSync(metaPath, `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600 });
    this.#fd = openSync(path.join(this.dir, 'journal.jsonl'), 'a', 0o600);
  }

  append(event: RunEvent): void {
    if (this.#closed) return;
    this.#pending += `${JSON.stringify(event)}\n`;
    if (DURABLE.has(event.kind)) {
      this.#write();
      fdatasyncSync(this.#fd);
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#write());
    }
  }

  #write(): void {
    this.#scheduled = false;
    if (this.#pending === '') return;
    writeSync(this.#fd, this.#pending);
    this.#pending = '';
  }

  close(): void {
    if (this.#closed) return;
    this.#write();
    this.#closed = true;
    fsyncSync(this.#fd);
    closeSync(this.#fd);
  }
}

export interface JournalRecord {
  meta: RunMeta;
  events: RunEvent[];
  dir: string;
}

/** Reads a journal back, tolerating a torn last line (the process was killed mid-write). */
export function readJournal(dir: string): JournalRecord {
  const meta = JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')) as RunMeta;
  const events: RunEvent[] = [];
  const text = existsSync(path.join(dir, 'journal.jsonl')) ? readFileSync(path.join(dir, 'journal.jsonl'), 'utf8') : '';
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line) as RunEvent);
    } catch {
      break;
    }
  }
  return { meta, events, dir };
}

/** The newest run of the workspace (run ids sort by start time). */
/** The ids of the runs journaled in `workspace`, oldest first (ids start with their start time). */
export function knownRunIds(workspace: string): string[] {
  const dir = runsDir(workspace);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => existsSync(path.join(dir, name, 'meta.json'))).sort();
}

export function latestRunId(workspace: string): string | undefined {
  return knownRunIds(workspace).at(-1);
}

export interface ResumeState {
  finished: boolean;
  status?: string;
  exitCode?: number;
  completed: Map<string, unknown>;
  unfinished?: string;
  state: Record<string, unknown>;
  /** The run was rolling back: what is left to undo, newest first. A resume does only these. */
  rollback?: { pending: string[]; reason: 'failed' | 'interrupted' };
}

/**
 * What a journal says about where the run stands. A run that began rolling back stays in that phase until every
 * planned rollback passed (a resume finishes them; it never goes forward). A run that stopped with a forward fix
 * (past its point of no return, or a rollback refused) can be resumed forward even though it ended.
 */
export function resumeStateOf(events: readonly RunEvent[]): ResumeState {
  const completed = new Map<string, unknown>();
  let open: string | undefined;
  let state: Record<string, unknown> = {};
  let end: Extract<RunEvent, { kind: 'run-end' }> | undefined;
  let rollback: ResumeState['rollback'];
  let forwardFix = false;
  for (const event of events) {
    if (event.kind === 'run-begin') {
      end = undefined;
      // A resumed run took over from the forward fix; should it stop again, it says so again.
      forwardFix = false;
    } else if (event.kind === 'step-begin') open = event.stepId;
    else if (event.kind === 'step-end') {
      if (event.status === 'passed') completed.set(event.stepId, event.value);
      open = undefined;
    } else if (event.kind === 'state') state = event.state;
    else if (event.kind === 'rollback-plan') rollback = { pending: [...event.stepIds], reason: event.reason };
    else if (event.kind === 'rollback-end' && event.status === 'passed') {
      // Undone: a step forward from here runs it again.
      completed.delete(event.stepId);
      if (rollback) rollback.pending = rollback.pending.filter((id) => id !== event.stepId);
    } else if (event.kind === 'forward-fix') {
      rollback = undefined;
      forwardFix = true;
      open = event.probe;
    } else if (event.kind === 'run-end') end = event;
  }
  const rollingBack = rollback !== undefined && rollback.pending.length > 0;
  return {
    finished: end !== undefined && !rollingBack && !forwardFix,
    status: end?.status,
    exitCode: end?.exitCode,
    completed,
    unfinished: open,
    state,
    // Once rolling back, never forward: even with nothing left to undo (killed just before the run's end).
    rollback,
  };
}
