import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Reporter } from './events.ts';
import { executedName, executedParts, type Entry, type Part } from './executed.ts';
import { RecordBuilder, type RunRecord } from './record.ts';

const ICON: Record<Entry['tone'], string> = { passed: '✔', failed: '✖', skipped: '↷', note: '?', running: '…' };

function quote(lines: string[]): string {
  return lines.map((line) => (line ? `> ${line}` : '>')).join('\n');
}

function fenced(lines: string[]): string[] {
  const longest = Math.max(2, ...lines.map((line) => /`+/.exec(line)?.[0].length ?? 0));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}text`, ...lines, fence];
}

function renderEntry(entry: Entry): string[] {
  const body = [`**${ICON[entry.tone]} ${entry.label}**`];
  if (entry.output.length) body.push('', ...fenced(entry.output));
  if (entry.message.length) body.push('', ...fenced(entry.message));
  return body;
}

function renderPart(part: Part): string {
  switch (part.kind) {
    case 'front-matter':
    case 'document':
      return part.text;
    case 'header':
      return `\n\n${quote(['[!NOTE]', '**Executed runbook**', '', ...part.facts.map(([key, value]) => `- ${key}: ${value}`), `- Counts: ${part.summary}`])}\n`;
    case 'outcome':
      return `\n\n${quote(part.entries.flatMap((entry, index) => [...(index ? [''] : []), ...renderEntry(entry)]))}\n`;
    case 'rollbacks':
      return `\n\n## Rollbacks, in the order they ran\n\n${part.entries.map((entry) => (/^\d/.test(entry) ? entry : `- ${entry}`)).join('\n')}\n`;
  }
}

/** The executed runbook as Markdown: the document with each block's outcome after it (see executed.ts). */
export function renderExecutedMarkdown(record: RunRecord): string {
  return executedParts(record).map(renderPart).join('');
}

/**
 * The executed runbook (`OUT/<name>.executed.md`): reads like the runbook and is the audit record of the run: who
 * ran it where, each block's start, duration, outcome, redacted output and who answered its questions.
 */
export function markdownReporter(outDir: string): Reporter {
  const builder = new RecordBuilder();
  return {
    name: 'markdown',
    onEvent: (event) => builder.apply(event),
    close() {
      const record = builder.record();
      if (!record) return;
      mkdirSync(outDir, { recursive: true });
      writeFileSync(path.join(outDir, executedName(record.begin.file, 'md')), renderExecutedMarkdown(record), { mode: 0o600 });
    },
  };
}
