import type { Block } from '../model.ts';
import type { Failure } from '../report/events.ts';
import { escapeRegExp } from '../regexp.ts';
import type { Redactor } from './redact.ts';

/** Maps a compiled-module position back to the document; see compile.ts. */
export type SourceMapper = { modulePath: string; toSource(line: number, column: number): { line: number; column: number } | undefined };

/**
 * The position inside the block where the error was raised: the first stack frame in the compiled module that maps
 * into this block. For a failed command, the stack recorded when the block started it comes first (zx runs commands
 * after the template call returns, so the error itself carries no frame of the block).
 */
export function locate(error: unknown, block: Block, mapper: SourceMapper | undefined, commandStack = ''): { line: number; column: number } {
  const fallback = { line: block.codeLine, column: 1 };
  if (!mapper) return fallback;
  const own = error instanceof Error ? `${error.stack ?? ''}\n${error.message}` : String(error);
  const text = commandStack ? `${commandStack}\n${own}` : own;
  const escaped = escapeRegExp(mapper.modulePath);
  const pattern = new RegExp(`${escaped}:(\\d+):(\\d+)`, 'g');
  for (const match of text.matchAll(pattern)) {
    const position = mapper.toSource(Number(match[1]), Number(match[2]));
    if (position && position.line >= block.codeLine && position.line < block.span.end.line) return position;
  }
  return fallback;
}

/**
 * An error that ended a block's thread (process.exit, an uncaught error, an unhandled rejection), described in the
 * runner, which never loads the blocks' libraries: positioned and redacted like any block failure.
 */
export function describeCrash(error: unknown, file: string, block: Block, redactor: Redactor, mapper: SourceMapper): Failure {
  const location = { file, ...locate(error, block, mapper) };
  const text = error instanceof Error ? error.message : String(error);
  const [first = 'error', ...rest] = text.split('\n');
  const what = error instanceof Error && error.name && error.name !== 'Error' ? `${error.name}: ` : '';
  return {
    kind: 'error',
    location,
    message: redactor.redact(`${what}${first.trim()} (it ended the block's runtime)`),
    details: rest.map((line) => redactor.redact(line.trimEnd())).filter((line) => line.trim() !== '').slice(0, 20),
  };
}
