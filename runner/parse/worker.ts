/**
 * Parses one document in a worker thread (see bounded.ts): the parser is synchronous, so only a thread the caller
 * can terminate bounds its time. Diagnostics cross as plain data; the model and the tree are plain data already.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseRunbook } from './index.ts';
import { toPlainDiagnostic } from './plain-diagnostic.ts';

const { source, file } = workerData as { source: string; file: string };
const { runbook, messages, tree } = parseRunbook(source, file);
parentPort?.postMessage({ runbook, tree, messages: messages.map(toPlainDiagnostic) });
