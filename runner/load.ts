import { readFile } from 'node:fs/promises';
import { diagnostic, hasErrors, RunbookInputError } from './diagnostics.ts';
import type { Runbook } from './model.ts';
import { ParseCache } from './parse/cache.ts';
import { parseRunbookBounded } from './parse/bounded.ts';

/**
 * Reads and parses a runbook file; any error in the document becomes a RunbookInputError (exit 2). With a cache
 * folder, an unchanged document's model is read back instead of parsed again.
 */
export async function loadRunbook(file: string, cacheDir?: string): Promise<Runbook> {
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RunbookInputError([
      diagnostic(code === 'ENOENT' ? `Unexpected missing file, expected a runbook at ${file}` : `Cannot read ${file}: ${String(error)}`, {
        file,
        ruleId: 'file',
      }),
    ]);
  }
  const cache = cacheDir ? new ParseCache(cacheDir) : undefined;
  const cached = await cache?.get(source, file);
  if (cached) return cached;
  const { runbook, messages } = await parseRunbookBounded(source, file);
  if (hasErrors(messages)) throw new RunbookInputError(messages.filter((message) => message.fatal === true));
  await cache?.set(source, file, runbook);
  return runbook;
}
