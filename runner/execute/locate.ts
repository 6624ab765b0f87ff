import { inspect } from 'node:util';
import { diagnostic } from '../../common/diagnostics.ts';
import { escapeRegExp } from '../../common/regexp.ts';
import type { Block, Point, Span } from '../model.ts';
import type { RunMessage } from '../report/events.ts';
import type { Redactor } from './redact.ts';

/**
 * Reads a property of whatever a block threw without letting it throw in turn: a block can throw an object whose
 * `toString` is null, or an Error whose `message` getter throws (read again by Node when it formats `stack`).
 */
export function safely<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/** The text of a thrown value that is not an Error: its own `toString` if it has a working one, else its shape. */
export function thrownText(value: unknown): string {
  return safely(() => String(value), '') || safely(() => inspect(value, { depth: 1, breakLength: Infinity }), '') || 'an unprintable value';
}

/** Maps a compiled-module position back to the document; see compile.ts. */
export type SourceMapper = { modulePath: string; toSource(line: number, column: number): { line: number; column: number } | undefined };

/**
 * The position inside the block where the error was raised: the first stack frame in the compiled module that maps
 * into this block. For a failed command, the stack recorded when the block started it comes first (zx runs commands
 * after the template call returns, so the error itself carries no frame of the block).
 */
export function locate(error: unknown, block: Block, mapper: SourceMapper | undefined, commandStack = ''): Point | Span {
  // Nowhere more precise to point at: the whole block.
  const fallback = block.span;
  // A bash block's failing command names its own line (context.ts, runBashScript).
  const scriptLine = safely(() => (error as { scriptLine?: unknown } | null)?.scriptLine, undefined);
  if (typeof scriptLine === 'number' && block.codeLine + scriptLine - 1 < block.span.end.line) return { line: block.codeLine + scriptLine - 1, column: 1 };
  if (!mapper) return fallback;
  const own = error instanceof Error ? `${safely(() => String(error.stack ?? ''), '')}\n${safely(() => String(error.message), '')}` : thrownText(error);
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
 * An error that ended a block's thread (process.exit, an uncaught error, an unhandled rejection, a throwing timer),
 * described in the runner, which never loads the blocks' libraries: positioned and redacted like any block failure.
 */
export function describeCrash(error: unknown, file: string, block: Block, redactor: Redactor, mapper: SourceMapper): RunMessage {
  const text = error instanceof Error ? safely(() => String(error.message), '') : thrownText(error);
  const [first = 'error', ...rest] = text.split('\n');
  const name = error instanceof Error ? safely(() => String(error.name), '') : '';
  const what = name && name !== 'Error' ? `${name}: ` : '';
  const note = rest.map((line) => redactor.redact(line.trimEnd())).filter((line) => line.trim() !== '').slice(0, 20);
  return diagnostic(redactor.redact(`${what}${first.trim()} (it ended the block's runtime)`), { file, place: locate(error, block, mapper), ruleId: 'run-error', note: note.join('\n') });
}
