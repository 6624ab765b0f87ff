import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatDuration } from '../../common/duration.ts';
import type { Failure, Reporter, RunEvent } from './events.ts';
import { failureLines } from './format.ts';

interface Outcome {
  label: string;
  output: string[];
  failure?: Failure;
}

function quote(lines: string[]): string {
  return lines.map((line) => (line ? `> ${line}` : '>')).join('\n');
}

function fenced(lines: string[]): string[] {
  const longest = Math.max(2, ...lines.map((line) => /`+/.exec(line)?.[0].length ?? 0));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}text`, ...lines, fence];
}

function render(outcome: Outcome): string {
  const body = [outcome.label];
  if (outcome.output.length) body.push('', ...fenced(outcome.output));
  if (outcome.failure) body.push('', ...fenced(failureLines(outcome.failure)));
  return quote(body);
}

/**
 * The executed runbook: the document itself with each block's outcome, duration and redacted output inserted after
 * it, and a header saying who ran what where. It reads like the runbook and is the audit record of the run.
 */
export function markdownReporter(outDir: string): Reporter {
  const outcomes = new Map<number, Outcome[]>();
  const skips = new Map<number, string>();
  let begin: Extract<RunEvent, { kind: 'run-begin' }> | undefined;
  let end: Extract<RunEvent, { kind: 'run-end' }> | undefined;
  let current: Outcome | undefined;
  const add = (line: number, outcome: Outcome) => {
    const list = outcomes.get(line) ?? [];
    list.push(outcome);
    outcomes.set(line, list);
  };
  return {
    name: 'markdown',
    'on:run-begin'(event) {
      begin = event;
    },
    'on:block-begin'(event) {
      current = { label: '', output: [] };
      add(event.line, current);
    },
    'on:output'(event) {
      current?.output.push(event.text);
    },
    'on:block-end'(event) {
      const icon = event.status === 'passed' ? '✔' : '✖';
      const label = `**${icon} ${event.role} ${event.status}** · ${formatDuration(event.durationMs)} · step \`${event.stepId}\``;
      if (event.role === 'expect') add(event.line, { label, output: [], failure: event.failure });
      else if (current) Object.assign(current, { label, failure: event.failure });
    },
    'on:rollback-end'(event) {
      if (event.status === 'skipped') add(event.line, { label: `**↷ rollback not run** (an earlier rollback failed) · step \`${event.stepId}\``, output: [] });
    },
    'on:step-skip'(event) {
      skips.set(event.line, event.reason);
    },
    'on:run-end'(event) {
      end = event;
    },
    close() {
      if (!begin) return;
      const source = readFileSync(begin.file, 'utf8').replace(/\r\n?/g, '\n');
      const after = new Map<number, string[]>();
      for (const block of begin.layout.blocks) {
        const parts = (outcomes.get(block.start) ?? []).map(render);
        const skip = skips.get(block.start);
        if (skip) parts.push(quote([`**↷ skipped** · ${skip}`]));
        if (parts.length) after.set(block.end, parts);
      }
      const lines = source.split('\n');
      const out: string[] = [];
      const headerAt = begin.layout.frontMatterEnd;
      const counts = end?.counts;
      const header = [
        '',
        `> [!NOTE]`,
        `> **Executed runbook** · run \`${begin.runId}\` · target \`${begin.target}\`${begin.sandbox ? ' (sandbox)' : ''} · started ${begin.time}`,
        `> Result: **${end?.status ?? 'unfinished'}**${counts ? ` · ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped` : ''}${end ? ` · ${formatDuration(end.durationMs)}` : ''}`,
        '',
      ];
      if (headerAt === 0) out.push(...header);
      lines.forEach((line, index) => {
        out.push(line);
        const number = index + 1;
        if (number === headerAt) out.push(...header);
        for (const part of after.get(number) ?? []) out.push('', part, '');
      });
      mkdirSync(outDir, { recursive: true });
      writeFileSync(path.join(outDir, `${path.basename(begin.file, '.md')}.executed.md`), out.join('\n'), { mode: 0o600 });
    },
  };
}
