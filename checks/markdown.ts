import type { Code, Root } from 'mdast';
import { eachBlock } from '../runner/parse/index.ts';
import type { Point, Span } from '../runner/model.ts';

/** Maps offsets in the (LF-normalised) runbook source to 1-based line/column, which is what diagnostics print. */
export class LineIndex {
  private readonly starts: number[] = [0];

  constructor(readonly source: string) {
    for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  point(offset: number): Point {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - this.starts[low]! + 1, offset };
  }

  span(start: number, end: number): Span {
    return { start: this.point(start), end: this.point(end) };
  }

  lineStart(line: number): number {
    return this.starts[line - 1] ?? this.source.length;
  }

  /** The text of a line, without its line break. */
  text(line: number): string {
    const end = this.starts[line];
    return this.source.slice(this.lineStart(line), end === undefined ? undefined : end - 1);
  }
}

/** A fenced (or indented) code node with the exact source range of its content, so findings point inside it. */
export interface CodeRegion {
  node: Code;
  lang: string;
  /** Source text of the content lines, indentation included (offsets stay true to the file). */
  text: string;
  offset: number;
}

export function codeRegion(node: Code, index: LineIndex): CodeRegion | undefined {
  const position = node.position;
  if (!position) return undefined;
  const source = index.source;
  // What the parser's fence plugin read from the fence lines (runner/parse/remark-runbook.ts).
  const fenced = node.data?.runbook?.fenced ?? false;
  const contentStartLine = fenced ? position.start.line + 1 : position.start.line;
  const unclosed = node.data?.runbook?.unclosed ?? false;
  const contentEndLine = fenced && !unclosed ? position.end.line - 1 : position.end.line;
  const offset = index.lineStart(contentStartLine);
  const end = contentEndLine < contentStartLine ? offset : Math.min(index.lineStart(contentEndLine + 1), source.length);
  return { node, lang: (node.lang ?? '').toLowerCase(), text: source.slice(offset, end), offset };
}

export function codeRegions(tree: Root, index: LineIndex): CodeRegion[] {
  const regions: CodeRegion[] = [];
  eachBlock(tree, (node) => {
    const region = node.type === 'code' ? codeRegion(node, index) : undefined;
    if (region) regions.push(region);
  });
  return regions;
}

export const SCRIPT_LANGS = new Set(['ts', 'typescript', 'js', 'javascript', 'mts', 'mjs', 'cts', 'cjs', 'tsx', 'jsx']);
export const SHELL_LANGS = new Set(['bash', 'sh', 'shell', 'zsh', 'ksh']);
export const PYTHON_LANGS = new Set(['python', 'py', 'python3']);
