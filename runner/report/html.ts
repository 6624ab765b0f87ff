import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { micromark } from 'micromark';
import type { Reporter } from './events.ts';
import { executedName, executedParts, type Entry, type Part } from './executed.ts';
import { RecordBuilder, type RunRecord } from './record.ts';

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Labels carry `code` spans; everything else in them is text. */
const inline = (text: string) => escape(text).replace(/`([^`]+)`/g, '<code>$1</code>');

const ICON: Record<Entry['tone'], string> = { passed: '✔', failed: '✖', skipped: '↷', note: '?', running: '…' };

// Inline and offline: an auditor opens the file from an archive years later, with no network and no other files.
const STYLE = `
:root { color-scheme: light; --ok: #1a7f37; --bad: #cf222e; --dim: #57606a; --line: #d0d7de; }
body { font: 15px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
pre { background: #f6f8fa; padding: .75rem; overflow-x: auto; border-radius: 6px; font-size: 13px; }
code { font-family: ui-monospace, monospace; }
header.record { border: 2px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; margin-bottom: 2rem; }
header.record h1 { margin: 0 0 .5rem; font-size: 1.3rem; }
header.record dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
header.record dt { font-weight: 600; } header.record dd { margin: 0; word-break: break-all; }
header.record.passed { border-color: var(--ok); } header.record.failed, header.record.interrupted { border-color: var(--bad); }
section.outcome { border-left: 4px solid var(--line); padding: .25rem .75rem; margin: -.5rem 0 1.25rem; }
.entry { margin: .35rem 0; } .entry .label { font-weight: 600; }
.passed > .label { color: var(--ok); } .failed > .label { color: var(--bad); } .skipped > .label, .note > .label { color: var(--dim); }
section.outcome:has(.failed) { border-left-color: var(--bad); } section.outcome:has(.passed):not(:has(.failed)) { border-left-color: var(--ok); }
pre.message { background: #ffebe9; }
details.front-matter { color: var(--dim); }
`;

function renderEntry(entry: Entry): string {
  const output = entry.output.length ? `<pre class="output">${escape(entry.output.join('\n'))}</pre>` : '';
  const message = entry.message.length ? `<pre class="message">${escape(entry.message.join('\n'))}</pre>` : '';
  return `<div class="entry ${entry.tone}" data-tone="${entry.tone}"><div class="label">${ICON[entry.tone]} ${inline(entry.label)}</div>${output}${message}</div>`;
}

function renderPart(part: Part, status: string): string {
  switch (part.kind) {
    case 'front-matter':
      return `<details class="front-matter"><summary>Front matter</summary><pre>${escape(part.text)}</pre></details>`;
    case 'document':
      // micromark never passes raw HTML through unless told to: the document's own HTML shows as text.
      // An image would be fetched from elsewhere: the page names it instead, so it needs nothing but itself.
      return micromark(part.text).replace(/<img [^>]*?alt="([^"]*)"[^>]*>/g, '[image: $1]');
    case 'header': {
      const facts = [...part.facts, ['Counts', part.summary] as [string, string]];
      return `<header class="record ${escape(status)}"><h1>Executed runbook</h1><dl>${facts.map(([key, value]) => `<dt>${escape(key)}</dt><dd data-fact="${escape(key.toLowerCase())}">${escape(value)}</dd>`).join('')}</dl></header>`;
    }
    case 'outcome':
      return `<section class="outcome" data-block="${escape(part.block.id)}">${part.entries.map(renderEntry).join('')}</section>`;
    case 'rollbacks':
      return `<section class="rollbacks"><h2>Rollbacks, in the order they ran</h2><ol>${part.entries.map((entry) => `<li>${inline(entry.replace(/^\d+\. /, ''))}</li>`).join('')}</ol></section>`;
  }
}

/** The executed runbook as one self-contained HTML page (no script, no external asset). */
export function renderExecutedHtml(record: RunRecord): string {
  const status = record.end?.status ?? 'unfinished';
  const title = `Executed runbook ${record.begin.document.repoPath} · run ${record.begin.runId}`;
  const body = executedParts(record)
    .map((part) => renderPart(part, status))
    .join('\n');
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${escape(title)}</title><style>${STYLE}</style></head><body>\n${body}\n</body></html>\n`;
}

/** `OUT/<name>.executed.html`: the executed runbook for an auditor's browser. */
export function htmlReporter(outDir: string): Reporter {
  const builder = new RecordBuilder();
  return {
    name: 'html',
    onEvent: (event) => builder.apply(event),
    close() {
      const record = builder.record();
      if (!record) return;
      mkdirSync(outDir, { recursive: true });
      writeFileSync(path.join(outDir, executedName(record.begin.file, 'html')), renderExecutedHtml(record), { mode: 0o600 });
    },
  };
}
