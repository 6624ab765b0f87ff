import path from 'node:path';
import { formatDuration } from '../../common/duration.ts';
import { describeAnswerer, type BlockInfo } from './events.ts';
import { formatCounts, messageLines } from './format.ts';
import { ordinal, type BlockRun, type RunRecord, type StepRecord } from './record.ts';

/**
 * The executed runbook as parts, shared by the markdown and the HTML view: the document cut at the end of each block
 * (by the offsets of the model's blocks, never by re-reading the file), each block followed by what happened to it.
 */
export type Part =
  | { kind: 'front-matter'; text: string }
  | { kind: 'header'; facts: [string, string][]; summary: string }
  | { kind: 'document'; text: string }
  | { kind: 'outcome'; block: BlockInfo; entries: Entry[] }
  | { kind: 'rollbacks'; entries: string[] };

/** One thing to say under a block. */
export interface Entry {
  tone: 'passed' | 'failed' | 'skipped' | 'note' | 'running';
  label: string;
  output: string[];
  message: string[];
}

export function executedName(file: string, extension: 'md' | 'html'): string {
  return `${path.basename(file, '.md')}.executed.${extension}`;
}

function header(record: RunRecord): Part {
  const { begin, end } = record;
  const { operator, host, tool, node } = begin.provenance;
  const facts: [string, string][] = [
    ['Run', begin.runId],
    ['Target', `${begin.target}${begin.sandbox ? ' (sandbox)' : ''}`],
    ['Operator', `${operator.name}${operator.email ? ` <${operator.email}>` : ''} (identified by ${operator.identifiedBy})`],
    ['Host', host],
    ['Tool', `${tool} (node ${node})`],
    ['Document', `${begin.document.repoPath}, sha256 ${begin.document.digest}`],
    ['Started', begin.time],
    ['Result', end ? `${end.status} (exit ${end.exitCode}) in ${formatDuration(end.durationMs)}` : 'unfinished (the record ends before the run did)'],
  ];
  if (begin.resumed) facts.push(['Resumed', 'yes: steps that finished before the interruption are marked as such']);
  return { kind: 'header', facts, summary: end ? formatCounts(end.counts, end.rollbacks) : 'no counts: the run did not end' };
}

function runEntry(block: BlockInfo, run: BlockRun, attempt: number, attempts: number): Entry {
  const tone = run.status === 'running' ? 'running' : run.status;
  const status = run.status === 'running' ? 'did not end (the record ends here)' : run.status;
  const order = run.rollbackOrder ? ` · ${ordinal(run.rollbackOrder)} rollback to run` : '';
  const tries = attempts > 1 ? ` · attempt ${attempt} of ${attempts}` : '';
  const duration = run.durationMs !== undefined ? ` · ${formatDuration(run.durationMs)}` : '';
  return {
    tone,
    label: `${block.role} ${status}${order}${tries} · started ${run.time}${duration} · \`${block.id}\``,
    output: run.output,
    message: run.failure ? messageLines(run.failure) : [],
  };
}

/** Why a block has no run in the record: the note under it, and the JUnit skip message. */
export function whyNotRun(block: BlockInfo, step: StepRecord | undefined, record: RunRecord): string {
  if (!step) return 'not planned';
  if (step.status === 'skipped') return block.role === 'step' ? `skipped: ${step.skip ?? ''}` : 'not run: its step was skipped';
  if (step.status === 'unreached') return `not reached: the run stopped at \`${record.stoppedAt ?? '?'}\` before this step`;
  if (step.status === 'pending') return 'not reached: the record ends before this step';
  if (block.role === 'rollback') return step.status === 'passed' && record.end?.status === 'passed' ? 'not run: nothing to undo' : 'not run';
  if (step.status === 'failed' || step.status === 'interrupted') return `not run: the step ${step.status} before it`;
  return 'not run';
}

function unrunEntry(block: BlockInfo, step: StepRecord | undefined, record: RunRecord): Entry {
  return { tone: 'skipped', label: `${whyNotRun(block, step, record)} · \`${block.id}\``, output: [], message: [] };
}

function answerEntries(step: StepRecord): Entry[] {
  return step.answers.map((answer) => ({
    tone: answer.answer === 'no' || answer.answer === 'abort' ? 'failed' : 'note',
    label: `${answer.action === 'confirm' ? 'confirmation' : 'operator action'}: ${answer.answer} · answered by ${describeAnswerer(answer.by)} · ${answer.time}`,
    output: [],
    message: [],
  }));
}

/** The document and the run's outcome per block, in document order; the header right after the front matter. */
export function executedParts(record: RunRecord): Part[] {
  const { document } = record.begin;
  const source = document.source;
  const parts: Part[] = [];
  let cursor = 0;
  if (document.frontMatterEnd > 0) {
    parts.push({ kind: 'front-matter', text: source.slice(0, document.frontMatterEnd) });
    cursor = document.frontMatterEnd;
  }
  parts.push(header(record));
  const ordered = [...document.blocks].sort((a, b) => (a.span.end.offset ?? 0) - (b.span.end.offset ?? 0));
  for (const block of ordered) {
    const end = block.span.end.offset ?? cursor;
    parts.push({ kind: 'document', text: source.slice(cursor, end) });
    cursor = end;
    const step = record.steps.get(block.stepId);
    const runs = record.blocks.get(block.id) ?? [];
    const entries = block.role === 'step' && step ? answerEntries(step) : [];
    if (runs.length === 0) entries.push(unrunEntry(block, step, record));
    else runs.forEach((run, index) => entries.push(runEntry(block, run, index + 1, runs.length)));
    if (block.role === 'step' && step?.failure && !runs.some((run) => run.failure)) {
      // Usually a verify or expect of the step failed: name it rather than print its message twice.
      const said = messageLines(step.failure).join('\n');
      const cause = document.blocks.find((other) => other.stepId === step.id && (record.blocks.get(other.id) ?? []).some((run) => run.failure && messageLines(run.failure).join('\n') === said));
      entries.push(
        cause
          ? { tone: 'failed', label: `step ${step.status}: \`${cause.id}\` failed`, output: [], message: [] }
          : { tone: 'failed', label: `step ${step.status}`, output: [], message: messageLines(step.failure) },
      );
    }
    parts.push({ kind: 'outcome', block, entries });
  }
  parts.push({ kind: 'document', text: source.slice(cursor) });
  if (record.rollbacks.length > 0) {
    parts.push({
      kind: 'rollbacks',
      entries: record.rollbacks.map((entry, index) =>
        entry.status === 'skipped'
          ? `\`${entry.blockId}\` not run (an earlier rollback failed)`
          : `${index + 1}. \`${entry.blockId}\` ${entry.status} · started ${entry.time ?? '?'} · ${formatDuration(entry.durationMs)}`,
      ),
    });
  }
  return parts;
}
