import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fchmodSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync, writeSync, existsSync } from 'node:fs';
import path from 'node:path';
import { diagnostic, type Diagnostic } from '../../common/diagnostics.ts';
import { reviveEvent, type RunEvent } from '../report/events.ts';

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

/**
 * Written at once, unsynced: a block's begin is the last line the runner writes before the block runs, so whatever
 * reads the journal while a block runs (the block itself, an operator's `runbook audit`) finds the record up to it.
 */
const WRITTEN_AT_ONCE = new Set<RunEvent['kind']>(['block-begin']);

export function runsDir(workspace: string): string {
  return path.join(workspace, '.runbook', 'runs');
}

const digest = (text: string | Buffer) => createHash('sha256').update(text).digest('hex');

/**
 * One journal line: the event; the digest of the line before it (of meta.json for the first line); and the writer's
 * seal. `next` commits to a random key that only the writing runner holds, in its main thread's memory; the writer's
 * following line reveals that key as its `seal`, and commits to a fresh one. Anyone can check a seal against the line
 * before; nobody but the writer can make one, not even a block that reads the whole journal: the key it would need
 * has never been written anywhere. A writer's first line (a run's begin, or a resume's) has no seal.
 */
interface JournalLine {
  prev: string;
  seal?: string;
  next: string;
  event: RunEvent;
}

/**
 * The keys that seal lines, drawn from the system's random source 64 at a time: each draw costs ~10-40 µs here (most of
 * it the call), and a run writes some seven lines a step. A key is as unpredictable from a pool as alone; one that
 * could read the pool could read the runner's current key as well.
 */
const KEYS_PER_DRAW = 64;
let keyPool = Buffer.alloc(0);
let keyOffset = 0;

function nextKey(): Buffer {
  if (keyOffset >= keyPool.length) {
    keyPool = randomBytes(32 * KEYS_PER_DRAW);
    keyOffset = 0;
  }
  keyOffset += 32;
  return keyPool.subarray(keyOffset - 32, keyOffset);
}

/**
 * Append-only record of a run: one redacted event per line in `.runbook/runs/<id>/journal.jsonl`, fsynced after every
 * event that changes what a resume would do. The lines of one turn of the event loop go out in one write, at the
 * latest when the turn ends (a killed process loses at most that turn's output lines); a durable event writes
 * whatever is pending with it, then syncs.
 *
 * Tamper-evident: each line carries the sha256 of the line before it (the first, of meta.json), so an edited, removed
 * or inserted line breaks the chain (`readJournal`). The runner holds the only handle and chains from its own last
 * line, never from the file: a line appended by anyone else (a block) breaks the chain at the runner's next line, and
 * the runner sees the file grow by bytes it did not write (`foreignBytes`). A line appended by a block that then kills
 * the runner (so that no runner line follows it) lacks the seal only the runner can make (see `JournalLine`).
 *
 * The file is read-only (0400) but for the moment the runner opens it: the runner writes through the handle it
 * already holds, and a block's `fs.appendFile` on it fails (for any user but root).
 */
export class Journal {
  readonly dir: string;
  readonly #fd: number;
  #pending = '';
  #scheduled = false;
  #closed = false;
  #head: string;
  /** The key the next line reveals as its seal; undefined before this writer's first line. */
  #key: Buffer | undefined;
  #size: number;
  /** Bytes that appeared in the file without this writer writing them. */
  foreignBytes = 0;

  constructor(workspace: string, meta: RunMeta) {
    this.dir = path.join(runsDir(workspace), meta.runId);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const metaPath = path.join(this.dir, 'meta.json');
    if (!existsSync(metaPath)) writeFileSync(metaPath, `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o600 });
    const journalPath = path.join(this.dir, 'journal.jsonl');
    const existing = existsSync(journalPath) ? readFileSync(journalPath, 'utf8') : '';
    // A resume continues the chain. A torn last line (killed mid-write) was never a record: it is cut off, or the
    // next line would be glued to it.
    const complete = existing.slice(0, existing.lastIndexOf('\n') + 1);
    if (existing !== '') chmodSync(journalPath, 0o600);
    this.#fd = openSync(journalPath, 'a', 0o600);
    fchmodSync(this.#fd, 0o400);
    if (complete !== existing) ftruncateSync(this.#fd, Buffer.byteLength(complete));
    const lines = complete.split('\n').filter(Boolean);
    this.#head = digest(lines.at(-1) ?? readFileSync(metaPath, 'utf8'));
    this.#size = Buffer.byteLength(complete);
  }

  append(event: RunEvent): void {
    if (this.#closed) return;
    const seal = this.#key?.toString('hex');
    this.#key = nextKey();
    const line = JSON.stringify({ prev: this.#head, ...(seal ? { seal } : {}), next: digest(this.#key), event } satisfies JournalLine);
    this.#head = digest(line);
    this.#pending += `${line}\n`;
    if (DURABLE.has(event.kind)) {
      this.#write();
      fdatasyncSync(this.#fd);
    } else if (WRITTEN_AT_ONCE.has(event.kind)) {
      this.#write();
    } else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#write());
    }
  }

  #write(): void {
    this.#scheduled = false;
    if (this.#pending === '') return;
    const size = fstatSync(this.#fd).size;
    if (size !== this.#size) this.foreignBytes += Math.abs(size - this.#size);
    writeSync(this.#fd, this.#pending);
    this.#size = size + Buffer.byteLength(this.#pending);
    this.#pending = '';
  }

  close(): void {
    if (this.#closed) return;
    this.#write();
    this.#closed = true;
    this.#key = undefined;
    fsyncSync(this.#fd);
    closeSync(this.#fd);
  }
}

export interface JournalRecord {
  meta: RunMeta;
  /** The events up to the first broken link (all of them when the chain holds). */
  events: RunEvent[];
  dir: string;
  /** Where the chain breaks, as a diagnostic at the journal's line; undefined when every line follows from the last. */
  broken?: Diagnostic;
  /** Lines whose link was checked. */
  lines: number;
  /** The runner processes that wrote those lines: the run's, then one per resume. */
  writers: number;
}

/**
 * Reads a journal back and checks its chain: each line must name the digest of the one before (the first, of
 * meta.json). A torn last line (the process was killed mid-write, no newline after it) is not a break.
 */
export function readJournal(dir: string): JournalRecord {
  const metaText = readFileSync(path.join(dir, 'meta.json'), 'utf8');
  const meta = JSON.parse(metaText) as RunMeta;
  const file = path.join(dir, 'journal.jsonl');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const lines = text.split('\n');
  lines.pop(); // '' after the last newline, or a torn line

  const events: RunEvent[] = [];
  let head = digest(metaText);
  /** The commitment the next sealed line must open. */
  let commitment: string | undefined;
  let writers = 0;
  const breakAt = (index: number, reason: string) =>
    diagnostic(reason, { file, place: { line: index + 1, column: 1 }, ruleId: 'journal-chain', note: 'the journal was changed after the runner wrote it; its record cannot be trusted past this line' });
  for (const [index, line] of lines.entries()) {
    let entry: Partial<JournalLine>;
    try {
      entry = JSON.parse(line) as Partial<JournalLine>;
    } catch {
      return { meta, events, dir, lines: index, writers, broken: breakAt(index, 'Unexpected line that is not a journal entry, expected JSON with `prev` and `event`') };
    }
    if (entry.prev !== head || !entry.event) {
      const got = typeof entry.prev === 'string' ? `\`${entry.prev.slice(0, 12)}…\`` : 'no digest';
      return { meta, events, dir, lines: index, writers, broken: breakAt(index, `Unexpected link ${got}, expected \`${head.slice(0, 12)}…\` (the digest of the line before)`) };
    }
    // Only a runner starting (a run, or a resume) writes a line without a seal: its run-begin.
    if (entry.seal === undefined ? entry.event.kind !== 'run-begin' : typeof entry.seal !== 'string' || commitment === undefined || digest(Buffer.from(entry.seal, 'hex')) !== commitment) {
      const found = entry.seal === undefined ? 'line without the runner\'s seal' : 'seal that does not open the runner\'s last commitment';
      return { meta, events, dir, lines: index, writers, broken: breakAt(index, `Unexpected ${found}, expected the key committed to by the line before (a \`${entry.event.kind}\` line written by something other than the runner)`) };
    }
    if (entry.seal === undefined && (entry.event as { resumed?: boolean }).resumed !== (index > 0)) {
      return { meta, events, dir, lines: index, writers, broken: breakAt(index, `Unexpected ${index > 0 ? 'new run' : 'resume'} at this line, expected ${index > 0 ? 'only a resume to begin a writer\'s segment after the first line' : 'the run\'s own begin first'}`) };
    }
    if (typeof entry.next !== 'string') return { meta, events, dir, lines: index, writers, broken: breakAt(index, 'Unexpected line without a commitment, expected `next`') };
    commitment = entry.next;
    if (entry.seal === undefined) writers += 1;
    events.push(reviveEvent(entry.event));
    head = digest(line);
  }
  return { meta, events, dir, lines: lines.length, writers };
}

/** Thrown when a journal's chain is broken: `resume` and `audit` refuse it (exit 1), printing where it breaks. */
export class BrokenJournalError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super('the journal is broken');
    this.name = 'BrokenJournalError';
  }
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
