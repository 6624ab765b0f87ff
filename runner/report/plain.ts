import { formatDuration } from '../../common/duration.ts';
import type { Reporter } from './events.ts';
import { failureLines } from './format.ts';

/** Line-oriented progress for logs and CI: no colours, no cursor movement, one fact per line. */
export function plainReporter(write: (text: string) => void = (text) => process.stdout.write(text)): Reporter {
  const out = (line: string) => write(`${line}\n`);
  return {
    name: 'plain',
    'on:run-begin'(event) {
      const runnable = event.steps.filter((step) => !step.skip).length;
      out(`${event.resumed ? 'resuming' : 'running'} ${event.file} on target ${event.target}${event.sandbox ? ' (sandbox)' : ''}: ${runnable} of ${event.steps.length} steps [run ${event.runId}]`);
    },
    'on:step-begin'(event) {
      out(`▶ ${event.stepId}  ${event.title} (line ${event.line})`);
    },
    'on:step-skip'(event) {
      out(`- ${event.stepId} skipped: ${event.reason}`);
    },
    'on:output'(event) {
      out(`  │ ${event.text}`);
    },
    'on:block-end'(event) {
      if (event.role !== 'step' && event.status === 'failed') out(`  ✖ ${event.role} (line ${event.line})`);
    },
    'on:step-retry'(event) {
      out(`  ↻ retry ${event.attempt} of ${event.stepId} in ${formatDuration(event.delayMs)}: ${event.failure.message}`);
    },
    'on:operator'(event) {
      if (event.answer === '') out(`  ? ${event.action === 'manual' ? 'operator action' : 'confirmation'} for ${event.stepId}`);
      else out(`  ? ${event.stepId}: ${event.answer}`);
    },
    'on:step-end'(event) {
      const mark = event.status === 'passed' ? '✔' : event.status === 'interrupted' ? '■' : '✖';
      out(`${mark} ${event.stepId} ${event.status} in ${formatDuration(event.durationMs)}`);
      if (event.failure) for (const line of failureLines(event.failure)) out(`  ${line}`);
    },
    'on:rollback-begin'(event) {
      out(`↺ rolling back ${event.stepId} (line ${event.line})`);
    },
    'on:rollback-end'(event) {
      out(`↺ rollback of ${event.stepId} ${event.status}${event.status === 'skipped' ? '' : ` in ${formatDuration(event.durationMs)}`}`);
      if (event.failure) for (const line of failureLines(event.failure)) out(`  ${line}`);
    },
    'on:notice'(event) {
      out(`${event.level}: ${event.message}`);
    },
    'on:run-end'(event) {
      const { passed, failed, skipped, interrupted } = event.counts;
      out(`${event.status}: ${passed} passed, ${failed} failed, ${skipped} skipped${interrupted ? `, ${interrupted} interrupted` : ''} in ${formatDuration(event.durationMs)}`);
    },
  };
}
