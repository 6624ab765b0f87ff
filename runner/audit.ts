import { existsSync } from 'node:fs';
import path from 'node:path';
import { diagnostic, messageLines, RunbookInputError, startOf } from '../common/diagnostics.ts';
import { readJournal, runsDir } from './journal/journal.ts';
import { formatDuration } from '../common/duration.ts';
import { describeAnswerer } from './report/events.ts';
import { formatCounts } from './report/format.ts';
import { recordOf, type RunRecord } from './report/record.ts';

const MARK: Record<string, string> = { passed: '✔', failed: '✖', skipped: '↷', interrupted: '■', unreached: '·', pending: '·', running: '…' };

/** The record as text: provenance, each step with its blocks and answers, rollbacks in the order they ran. */
export function recordLines(record: RunRecord): string[] {
  const { begin, end } = record;
  const { operator, host, tool, node } = begin.provenance;
  const lines = [
    `run ${begin.runId} on target ${begin.target}${begin.sandbox ? ' (sandbox)' : ''}${begin.resumed ? ', resumed' : ''}`,
    `operator: ${operator.name}${operator.email ? ` <${operator.email}>` : ''} (identified by ${operator.identifiedBy}) on ${host}, ${tool} (node ${node})`,
    `document: ${begin.document.repoPath} sha256 ${begin.document.digest}`,
    `started ${begin.time}; ${end ? `${end.status} (exit ${end.exitCode}) in ${formatDuration(end.durationMs)}: ${formatCounts(end.counts, end.rollbacks)}` : 'no end in the journal (interrupted or killed)'}`,
  ];
  for (const step of record.steps.values()) {
    const when = step.time ? ` · started ${step.time}` : '';
    const took = step.durationMs !== undefined ? ` · ${formatDuration(step.durationMs)}` : '';
    const status = step.status === 'unreached' ? 'not reached' : step.status;
    lines.push(`${MARK[step.status] ?? '?'} ${step.id} ${status}${step.skip ? `: ${step.skip}` : ''}${when}${took}`);
    for (const answer of step.answers) lines.push(`    ? ${answer.action} ${answer.answer}, answered by ${describeAnswerer(answer.by)} at ${answer.time}`);
    for (const block of begin.document.blocks) {
      if (block.stepId !== step.id || block.role === 'rollback') continue;
      for (const run of record.blocks.get(block.id) ?? []) {
        lines.push(`    ${MARK[run.status] ?? '?'} ${block.id} ${run.status} · started ${run.time}${run.durationMs !== undefined ? ` · ${formatDuration(run.durationMs)}` : ''}`);
        if (run.failure) lines.push(...messageLines(run.failure).map((line) => `      ${line}`));
      }
    }
    if (step.failure && !(record.blocks.get(step.id) ?? []).some((run) => run.failure)) lines.push(...messageLines(step.failure).map((line) => `      ${line}`));
  }
  if (record.rollbacks.length) {
    lines.push('rollbacks, in the order they ran:');
    record.rollbacks.forEach((entry, index) => {
      lines.push(entry.status === 'skipped' ? `  - ${entry.blockId} not run (an earlier rollback failed)` : `  ${index + 1}. ${entry.blockId} ${entry.status} · started ${entry.time} · ${formatDuration(entry.durationMs)}`);
      if (entry.failure) lines.push(...messageLines(entry.failure).map((line) => `      ${line}`));
    });
  }
  for (const notice of record.notices) if (notice.level !== 'info') lines.push(`${notice.level}: ${notice.message}`);
  return lines;
}

/**
 * `runbook audit RUN_ID`: prints the run's record from its journal and verifies the journal's digest chain. Exit 0
 * when every line follows from the one before, 1 when the chain is broken (where it breaks is printed).
 */
export function auditRun(workspace: string, runId: string, write: (line: string) => void): number {
  const dir = path.join(runsDir(workspace), runId);
  if (!existsSync(path.join(dir, 'meta.json'))) {
    throw new RunbookInputError([diagnostic(`Unexpected run id \`${runId}\`, expected a folder under ${runsDir(workspace)}`, { file: workspace, ruleId: 'unknown-run' })]);
  }
  const journal = readJournal(dir);
  const record = recordOf(journal.events);
  if (record) for (const line of recordLines(record)) write(line);
  if (journal.broken) {
    for (const line of messageLines(journal.broken)) write(line);
    write(`journal: chain broken at line ${startOf(journal.broken).line}; the record above stops there`);
    return 1;
  }
  const resumes = journal.writers - 1;
  write(`journal: ${journal.lines} lines, every one chained to the one before (sha256) and sealed by the runner that wrote it (the run${resumes > 0 ? ` and ${resumes} resume${resumes > 1 ? 's' : ''}` : ''})`);
  return 0;
}
