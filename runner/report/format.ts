import path from 'node:path';
import type { RollbackCounts, StepCounts } from './events.ts';

export { messageLines } from '../../common/diagnostics.ts';

export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') ? relative : file;
}

/**
 * The run's counts in the one wording every reporter prints (and the tests parse back to compare them): steps by
 * outcome, then rollbacks. A `when=` or on-demand skip is "skipped"; a step the run never got to is "not reached".
 */
export function formatCounts(counts: StepCounts, rollbacks: RollbackCounts): string {
  const steps = `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped, ${counts.unreached} not reached`;
  const interrupted = counts.interrupted ? `, ${counts.interrupted} interrupted` : '';
  const undo = rollbacks.passed + rollbacks.failed + rollbacks.skipped;
  const rolled = undo ? `; rollbacks: ${rollbacks.passed} passed, ${rollbacks.failed} failed, ${rollbacks.skipped} not run` : '';
  return `${steps}${interrupted}${rolled}`;
}
