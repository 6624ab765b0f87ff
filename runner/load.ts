import { readFile } from 'node:fs/promises';
import { UsageError } from '../common/errors.ts';
import { hasErrors, RunbookInputError } from '../common/diagnostics.ts';
import type { Runbook } from './model.ts';
import { ParseCache } from './parse/cache.ts';
import type { ParseResult } from './parse/index.ts';

// The Markdown parser (unified, micromark, YAML) loads only when a document is parsed, not when its model is read back
// from the cache: a `plan` or a run of an unchanged document never loads it.
const parser = () => import('./parse/bounded.ts');

/** The one document loader: a file that cannot be read is a usage mistake (exit 2), named in one line. */
export async function readRunbookSource(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${file}${code === 'ENOENT' ? ': no such file' : code ? `: ${code}` : ''}`);
  }
}

/** The parsed document with every parser message, fatal or not: what lint and check report on. */
export async function parseRunbookFile(file: string): Promise<ParseResult> {
  const source = await readRunbookSource(file);
  return (await parser()).parseRunbookBounded(source, file);
}

/**
 * A document to run or plan: any error in it becomes a RunbookInputError (exit 2). With a cache folder, an unchanged
 * document's model is read back instead of parsed again.
 */
export async function loadRunbook(file: string, cacheDir?: string): Promise<Runbook> {
  const source = await readRunbookSource(file);
  const cache = cacheDir ? new ParseCache(cacheDir) : undefined;
  const cached = await cache?.get(source, file);
  if (cached) return cached;
  const { runbook, messages } = await (await parser()).parseRunbookBounded(source, file);
  if (hasErrors(messages)) throw new RunbookInputError(messages.filter((message) => message.fatal === true));
  await cache?.set(source, file, runbook);
  return runbook;
}
