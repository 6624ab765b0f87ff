import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatDuration } from '../../common/duration.ts';
import type { Reporter } from './events.ts';

/** GitHub Actions' workflow-command escaping: data and properties differ. */
const escapeData = (text: string) => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (text: string) => escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');

/**
 * Annotations at the runbook line for every failure, and a step summary table (appended to $GITHUB_STEP_SUMMARY
 * when Actions provides it, else written to the out folder).
 */
export function githubReporter(outDir: string, write: (text: string) => void = (text) => process.stdout.write(text)): Reporter {
  const rows: string[] = [];
  let header = '';
  return {
    name: 'github',
    'on:run-begin'(event) {
      header = `### Runbook \`${event.file}\` on \`${event.target}\`\n\nRun \`${event.runId}\`\n\n| | Step | Line | Duration |\n|---|---|---|---|\n`;
    },
    'on:step-skip'(event) {
      rows.push(`| ↷ | ${event.stepId} (${event.reason}) | ${event.line} | |`);
    },
    'on:step-end'(event) {
      const icon = event.status === 'passed' ? '✅' : event.status === 'interrupted' ? '⏹️' : '❌';
      rows.push(`| ${icon} | ${event.stepId} | ${event.line} | ${formatDuration(event.durationMs)} |`);
      if (event.failure) {
        const { location, message, details } = event.failure;
        write(
          `::error file=${escapeProperty(location.file)},line=${location.line},col=${location.column},title=${escapeProperty(`step ${event.stepId} ${event.status}`)}::${escapeData([message, ...details].join('\n'))}\n`,
        );
      }
    },
    'on:rollback-end'(event) {
      if (event.failure) {
        write(`::error file=${escapeProperty(event.failure.location.file)},line=${event.line},title=${escapeProperty(`rollback of ${event.stepId} failed`)}::${escapeData(event.failure.message)}\n`);
      }
      rows.push(`| ↺ | rollback of ${event.stepId}: ${event.status} | ${event.line} | ${formatDuration(event.durationMs)} |`);
    },
    'on:notice'(event) {
      if (event.level !== 'info') write(`::${event.level === 'error' ? 'error' : 'warning'}::${escapeData(event.message)}\n`);
    },
    'on:run-end'(event) {
      rows.push('', `**${event.status}**: ${event.counts.passed} passed, ${event.counts.failed} failed, ${event.counts.skipped} skipped in ${formatDuration(event.durationMs)}`);
    },
    close() {
      const summary = `${header}${rows.join('\n')}\n`;
      const target = process.env['GITHUB_STEP_SUMMARY'];
      if (target) appendFileSync(target, summary);
      mkdirSync(outDir, { recursive: true });
      writeFileSync(path.join(outDir, 'github-summary.md'), summary, { mode: 0o600 });
    },
  };
}
