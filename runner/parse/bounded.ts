import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { diagnostic } from '../../common/diagnostics.ts';
import { parseRunbook, refusedDocument, type ParseResult } from './index.ts';
import { LIMITS } from './limits.ts';
import { fromPlainDiagnostic, type PlainDiagnostic } from './plain-diagnostic.ts';

/**
 * Below this size the worst shape the Markdown parser meets still parses well within the time bound, so the document
 * is parsed in this thread and pays no thread start.
 */
const INLINE_BYTES = 48 * 1024;

/**
 * The worker's module: the TypeScript source when this runs from source (tests, tsx), else the CLI bundle's
 * `parse-worker.mjs` beside the chunk this module was bundled into (bin/runbook.js builds it).
 */
function workerModule(): URL | undefined {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('./worker.ts', here) : new URL('./parse-worker.mjs', here);
  return existsSync(fileURLToPath(url)) ? url : undefined;
}

/**
 * `parseRunbook` with its time bounded: a document larger than a few tens of kilobytes is parsed in a worker thread
 * that is stopped after `LIMITS.parseMs`, and the document is then refused with a positioned error instead of
 * holding the CLI for minutes (some Markdown shapes cost the parser quadratic time).
 */
export async function parseRunbookBounded(source: string, file: string, budgetMs: number = LIMITS.parseMs): Promise<ParseResult> {
  const module = source.length > INLINE_BYTES ? workerModule() : undefined;
  if (!module) return parseRunbook(source, file);
  const worker = new Worker(module, { workerData: { source, file } });
  try {
    return await new Promise<ParseResult>((resolve) => {
      const timer = setTimeout(() => {
        const reason = `Unexpected document the Markdown parser could not read within ${budgetMs / 1000}s, expected a simpler one (long runs of brackets, deep nesting)`;
        resolve(refusedDocument(source, file, [diagnostic(reason, { file, place: { line: 1, column: 1 }, ruleId: 'document-limit' })]));
      }, budgetMs);
      worker.once('message', (data: Omit<ParseResult, 'messages'> & { messages: PlainDiagnostic[] }) => {
        clearTimeout(timer);
        resolve({ ...data, messages: data.messages.map(fromPlainDiagnostic) });
      });
      // A worker that cannot start (no loader for the source) leaves the parse to this thread, unbounded as before.
      worker.once('error', () => {
        clearTimeout(timer);
        resolve(parseRunbook(source, file));
      });
    });
  } finally {
    await worker.terminate();
  }
}
