import { diagnostic, type Diagnostic } from '../../common/diagnostics.ts';

/**
 * Bounds on what the parser is given. The Markdown parser's cost grows faster than the document on some shapes (deep
 * list and quote nesting, long paragraphs of brackets), and the visitors over its tree recurse once per nesting level,
 * so a hostile or broken document is refused here, at the line that crosses a bound, before any of that runs.
 * A real runbook is tens of kilobytes and nests a few levels: every bound is far above that.
 */
export const LIMITS = {
  /** Bytes of the whole document (UTF-8). */
  documentBytes: 1024 * 1024,
  /** Container markers (`>` and list bullets) that open on one line. */
  nesting: 32,
  /** Columns of leading whitespace of a line outside a top-level fence (list items nest by indentation). */
  indentColumns: 128,
  /** Bytes of the YAML front matter. */
  frontMatterBytes: 64 * 1024,
  /** YAML aliases resolved while reading the front matter (an alias bomb expands exponentially). */
  frontMatterAliases: 100,
  /** Milliseconds the Markdown parser may take before the document is refused as too complex. */
  parseMs: 3000,
} as const;

/** The longest timer Node keeps: a larger delay fires at once (TimeoutOverflowWarning), so it is refused. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
/** A line's container prefix: quote markers, list bullets and ordered-list numbers, with the spaces between them. */
const CONTAINER_PREFIX = /^(?:[ \t]*(?:>|[-*+](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$)))+/;

function columns(whitespace: string): number {
  let width = 0;
  for (const char of whitespace) width = char === '\t' ? width + 4 - (width % 4) : width + 1;
  return width;
}

/** Line and column of UTF-16 offset `offset` in `text`. */
function pointAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let index = text.indexOf('\n'); index !== -1 && index < offset; index = text.indexOf('\n', index + 1)) {
    line += 1;
    start = index + 1;
  }
  return { line, column: offset - start + 1 };
}

/**
 * The first bound `text` (line endings already normalised to `\n`) crosses, as a positioned error, or none. Reads
 * each line once; fenced code at the top level is skipped, since code may be indented as deep as it likes.
 */
export function checkDocumentLimits(text: string, file: string): Diagnostic[] {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > LIMITS.documentBytes) {
    // The character at which the limit falls (close enough in UTF-16 for a message: the point is where to cut).
    const at = pointAt(text, Math.min(text.length, LIMITS.documentBytes));
    return [
      diagnostic(`Unexpected document of ${bytes} bytes, expected at most ${LIMITS.documentBytes} (a runbook is split before it grows this large)`, {
        file,
        place: at,
        ruleId: 'document-limit',
      }),
    ];
  }
  let fence: string | undefined;
  let line = 0;
  for (let start = 0; start <= text.length; ) {
    const end = text.indexOf('\n', start);
    const content = text.slice(start, end === -1 ? text.length : end);
    line += 1;
    start = end === -1 ? text.length + 1 : end + 1;
    const opening = FENCE.exec(content)?.[1];
    if (fence !== undefined) {
      if (opening && opening[0] === fence[0] && opening.length >= fence.length && content.trim() === opening) fence = undefined;
      continue;
    }
    if (opening) {
      fence = opening;
      continue;
    }
    const prefix = CONTAINER_PREFIX.exec(content)?.[0] ?? '';
    const markers = prefix.replace(/\d{1,9}[.)]/g, '#').replace(/[ \t]/g, '').length;
    if (markers > LIMITS.nesting) {
      return [
        diagnostic(`Unexpected nesting of ${markers} quotes and list items on one line, expected at most ${LIMITS.nesting}`, {
          file,
          place: { start: { line, column: 1 }, end: { line, column: prefix.length + 1 } },
          ruleId: 'document-limit',
        }),
      ];
    }
    const indent = /^[ \t]*/.exec(content)?.[0] ?? '';
    if (indent.length < content.length && columns(indent) > LIMITS.indentColumns) {
      return [
        diagnostic(`Unexpected indentation of ${columns(indent)} columns, expected at most ${LIMITS.indentColumns} (lists nested this deep)`, {
          file,
          place: { start: { line, column: 1 }, end: { line, column: indent.length + 1 } },
          ruleId: 'document-limit',
        }),
      ];
    }
  }
  return [];
}
