import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startOf } from '../../common/diagnostics.ts';
import { formatDuration } from '../../common/duration.ts';
import type { PlannedStepInfo, Reporter, RunMessage } from './events.ts';
import { formatCounts } from './format.ts';

/** GitHub Actions' workflow-command escaping: data and properties differ. */
const escapeData = (text: string) => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (text: string) => escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');

/**
 * Annotations at the runbook line for every failure (the path from the repository root, which is what GitHub
 * matches against the checkout), and a step summary table, appended to $GITHUB_STEP_SUMMARY when Actions provides it
 * and written to the `--out` folder when one is given.
 */
export function githubReporter(outDir: string | undefined, write: (text: string) => void = (text) => process.stdout.write(text)): Reporter {
  const rows: string[] = [];
  const steps = new Map<string, PlannedStepInfo>();
  let header = '';
  let file = '';
  const annotate = (message: RunMessage, title: string) => {
    const { line, column } = startOf(message);
    const note = message.note ? `\n${message.note}` : '';
    write(`::error file=${escapeProperty(file)},line=${line},col=${column},title=${escapeProperty(title)}::${escapeData(`${message.reason} [${message.ruleId ?? 'run-error'}]${note}`)}\n`);
  };
  return {
    name: 'github',
    'on:run-begin'(event) {
      file = event.document.repoPath;
      for (const step of event.steps) steps.set(step.id, step);
      header = `### Runbook \`${file}\` on \`${event.target}\`\n\nRun \`${event.runId}\`\n\n| | Step | Line | Duration |\n|---|---|---|---|\n`;
    },
    'on:step-skip'(event) {
      rows.push(`| ↷ | ${event.stepId} (${event.reason}) | ${steps.get(event.stepId)?.line ?? ''} | |`);
    },
    'on:step-end'(event) {
      const icon = event.status === 'passed' ? '✅' : event.status === 'interrupted' ? '⏹️' : '❌';
      rows.push(`| ${icon} | ${event.stepId} | ${steps.get(event.stepId)?.line ?? ''} | ${formatDuration(event.durationMs)} |`);
      if (event.failure) annotate(event.failure, `step ${event.stepId} ${event.status}`);
    },
    'on:rollback-end'(event) {
      if (event.failure) annotate(event.failure, `rollback of ${event.stepId} failed`);
      rows.push(`| ↺ | rollback of ${event.stepId}: ${event.status} | | ${formatDuration(event.durationMs)} |`);
    },
    'on:notice'(event) {
      if (event.level !== 'info') write(`::${event.level === 'error' ? 'error' : 'warning'}::${escapeData(event.message)}\n`);
    },
    'on:run-end'(event) {
      rows.push('', `**${event.status}**: ${formatCounts(event.counts, event.rollbacks)} in ${formatDuration(event.durationMs)}`);
    },
    close() {
      const summary = `${header}${rows.join('\n')}\n`;
      const target = process.env['GITHUB_STEP_SUMMARY'];
      if (target) appendFileSync(target, summary);
      if (outDir) {
        mkdirSync(outDir, { recursive: true });
        writeFileSync(path.join(outDir, 'github-summary.md'), summary, { mode: 0o600 });
      }
    },
  };
}
