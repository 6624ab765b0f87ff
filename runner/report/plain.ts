import { formatDuration } from '../../common/duration.ts';
import { describeAnswerer, type PlannedStepInfo, type Reporter } from './events.ts';
import { formatCounts, messageLines } from './format.ts';

/** Line-oriented progress for logs and CI: no colours, no cursor movement, one fact per line. */
export function plainReporter(write: (text: string) => void = (text) => process.stdout.write(text)): Reporter {
  const out = (line: string) => write(`${line}\n`);
  const steps = new Map<string, PlannedStepInfo>();
  return {
    name: 'plain',
    'on:run-begin'(event) {
      for (const step of event.steps) steps.set(step.id, step);
      const runnable = event.steps.filter((step) => !step.skip).length;
      out(`${event.resumed ? 'resuming' : 'running'} ${event.file} on target ${event.target}${event.sandbox ? ' (sandbox)' : ''}: ${runnable} of ${event.steps.length} steps [run ${event.runId}]`);
    },
    'on:step-begin'(event) {
      const step = steps.get(event.stepId);
      out(`▶ ${event.stepId}  ${step?.title ?? event.stepId} (line ${step?.line ?? '?'})`);
    },
    'on:step-skip'(event) {
      out(`- ${event.stepId} skipped: ${event.reason}`);
    },
    'on:output'(event) {
      out(`  │ ${event.text}`);
    },
    'on:block-end'(event) {
      if (event.role !== 'step' && event.status === 'failed') out(`  ✖ ${event.blockId}`);
    },
    'on:step-retry'(event) {
      out(`  ↻ retry ${event.attempt} of ${event.stepId} in ${formatDuration(event.delayMs)}: ${event.failure.reason}`);
    },
    'on:operator'(event) {
      if (event.answer === '') out(`  ? ${event.action === 'manual' ? 'operator action' : 'confirmation'} for ${event.stepId}`);
      else out(`  ? ${event.stepId}: ${event.action === 'manual' ? 'operator action' : 'confirmation'} ${event.answer}, answered by ${describeAnswerer(event.by)}`);
    },
    'on:step-end'(event) {
      const mark = event.status === 'passed' ? '✔' : event.status === 'interrupted' ? '■' : '✖';
      out(`${mark} ${event.stepId} ${event.status} in ${formatDuration(event.durationMs)}`);
      if (event.failure) for (const line of messageLines(event.failure)) out(`  ${line}`);
    },
    'on:rollback-begin'(event) {
      out(`↺ rolling back ${event.stepId} (${event.blockId})`);
    },
    'on:rollback-end'(event) {
      out(`↺ rollback of ${event.stepId} ${event.status}${event.status === 'skipped' ? '' : ` in ${formatDuration(event.durationMs)}`}`);
      if (event.failure) for (const line of messageLines(event.failure)) out(`  ${line}`);
    },
    'on:notice'(event) {
      out(`${event.level}: ${event.message}`);
    },
    'on:run-end'(event) {
      out(`${event.status}: ${formatCounts(event.counts, event.rollbacks)} in ${formatDuration(event.durationMs)}`);
    },
  };
}
