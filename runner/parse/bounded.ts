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
 * The worker that parses: the CLI bundle's `parse-worker.mjs` beside the chunk this module was bundled into
 * (bin/runbook.js builds it), or, running from source (tests, tsx), the TypeScript worker behind a loader the worker
 * registers itself (a loader registered in this thread does not reach a worker). Undefined when neither is there.
 */
function startWorker(workerData: { source: string; file: string }): Worker | undefined {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const load = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./worker.ts', here).href)}); })`;
    return new Worker(load, { eval: true, workerData });
  }
  const url = new URL('./parse-worker.mjs', here);
  return existsSync(fileURLToPath(url)) ? new Worker(url, { workerData }) : undefined;
}

/** How often the parse's CPU time is looked at. */
const POLL_MS = 50;
/** A parse that has not ended after this many times its CPU budget in wall time is stopped whatever the machine does. */
const WALL_FACTOR = 10;

/**
 * `parseRunbook` with its time bounded: a document larger than a few tens of kilobytes is parsed in a worker thread
 * that is stopped once it has used `budgetMs` of CPU, and the document is then refused with a positioned error
 * instead of holding the CLI for minutes (some Markdown shapes cost the parser quadratic time). CPU time, not wall
 * time: on a busy machine a document that parses in a second of CPU may take several of wall time, and it is the
 * document's cost that is bounded, not the machine's load. While the worker parses, this thread only waits, so the
 * process's CPU time is the parse's.
 */
export async function parseRunbookBounded(source: string, file: string, budgetMs: number = LIMITS.parseMs): Promise<ParseResult> {
  const worker = source.length > INLINE_BYTES ? startWorker({ source, file }) : undefined;
  if (!worker) return parseRunbook(source, file);
  const cpuAtStart = process.cpuUsage();
  const started = Date.now();
  try {
    return await new Promise<ParseResult>((resolve) => {
      const poll = setInterval(() => {
        const { user, system } = process.cpuUsage(cpuAtStart);
        if ((user + system) / 1000 < budgetMs && Date.now() - started < budgetMs * WALL_FACTOR) return;
        clearInterval(poll);
        const reason = `Unexpected document the Markdown parser could not read within ${budgetMs / 1000}s, expected a simpler one (long runs of brackets, deep nesting)`;
        resolve(refusedDocument(source, file, [diagnostic(reason, { file, place: { line: 1, column: 1 }, ruleId: 'document-limit' })]));
      }, POLL_MS);
      worker.once('message', (data: Omit<ParseResult, 'messages'> & { messages: PlainDiagnostic[] }) => {
        clearInterval(poll);
        resolve({ ...data, messages: data.messages.map(fromPlainDiagnostic) });
      });
      // A worker that cannot start (no loader for the source) leaves the parse to this thread, unbounded as before.
      worker.once('error', () => {
        clearInterval(poll);
        resolve(parseRunbook(source, file));
      });
    });
  } finally {
    await worker.terminate();
  }
}
