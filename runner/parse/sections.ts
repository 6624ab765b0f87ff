import type { Nodes, Root } from 'mdast';

/**
 * The Markdown parser's cost grows faster than the document (micromark splices its event list, a long document's
 * many times over): a 1,000-step runbook parsed whole takes about twice what its pieces take parsed one by one.
 * So a document is cut into pieces of at least PIECE_LINES lines, only before a heading line that no construct can
 * reach across (`# ...` at the start of a line, outside every fence), each piece is parsed on its own, and the trees
 * are joined with their positions moved to where the piece starts. Where a piece's end could have been part of
 * what follows (a fence or an HTML block left open at its end) or a piece defines a link reference another piece
 * could use, the document is parsed whole instead: the result is always the whole parse's (sections.test.ts).
 */
const PIECE_LINES = 40;
const ATX_HEADING = /^#{1,6}(?:[ \t]|$)/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/** Line indexes where a piece may start: unindented ATX headings outside fences, PIECE_LINES apart at least. */
export function pieceStarts(lines: readonly string[]): number[] {
  const starts = [0];
  let fence: string | undefined;
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!;
    const opening = FENCE.exec(line);
    if (opening) {
      const mark = opening[1]!;
      // A closing fence: the same character, at least as long, nothing after it. Anything else inside stays inside.
      if (fence === undefined) fence = mark;
      else if (mark[0] === fence[0] && mark.length >= fence.length && line.trim() === mark) fence = undefined;
      continue;
    }
    if (fence === undefined && ATX_HEADING.test(line) && index - starts.at(-1)! >= PIECE_LINES) starts.push(index);
  }
  return starts;
}

/** Every node with a position, the tree's inline content included. */
function shift(node: Nodes, lines: number, offset: number): void {
  const position = node.position;
  if (position) {
    position.start.line += lines;
    position.end.line += lines;
    if (position.start.offset !== undefined) position.start.offset += offset;
    if (position.end.offset !== undefined) position.end.offset += offset;
  }
  if ('children' in node) for (const child of node.children as Nodes[]) shift(child, lines, offset);
}

/** A piece's tree may end in something the next piece would have continued: then only the whole parse is right. */
function endsOpen(tree: Root, lines: readonly string[]): boolean {
  const last = tree.children.at(-1);
  if (!last?.position || last.position.end.line < lines.length) return false;
  // An HTML block runs to its own end condition (a blank line, a closing tag), which may lie beyond the heading.
  if (last.type === 'html') return true;
  if (last.type !== 'code') return false;
  const opening = FENCE.exec(lines[last.position.start.line - 1] ?? '')?.[1];
  // Indented code ends at any unindented line, the heading that follows included.
  if (!opening) return false;
  const closing = (lines[last.position.end.line - 1] ?? '').trim();
  const closed = last.position.end.line > last.position.start.line && /^(`{3,}|~{3,})$/.test(closing) && closing[0] === opening[0] && closing.length >= opening.length;
  return !closed;
}

/** Link reference definitions are the document's, wherever they stand: a piece alone would not resolve the others'. */
function definesReferences(node: Nodes): boolean {
  if (node.type === 'definition') return true;
  return (node.type === 'root' || node.type === 'list' || node.type === 'listItem' || node.type === 'blockquote') && (node.children as Nodes[]).some(definesReferences);
}

/**
 * Parses `text` piece by piece with `parse` (a unified parser's parse: front matter is only ever in the first piece),
 * or whole when cutting it could change the result.
 */
export function parseInPieces(text: string, parse: (text: string) => Root): Root {
  const lines = text.split('\n');
  const starts = pieceStarts(lines);
  if (starts.length === 1) return parse(text);
  const root: Root = { type: 'root', children: [] };
  let offset = 0;
  for (let piece = 0; piece < starts.length; piece += 1) {
    const from = starts[piece]!;
    const to = starts[piece + 1] ?? lines.length;
    const pieceText = lines.slice(from, to).join('\n') + (to < lines.length ? '\n' : '');
    const tree = parse(pieceText);
    if (definesReferences(tree) || (to < lines.length && endsOpen(tree, lines.slice(from, to)))) return parse(text);
    for (const child of tree.children) shift(child, from, offset);
    root.children.push(...tree.children);
    offset += pieceText.length;
  }
  root.position = { start: { line: 1, column: 1, offset: 0 }, end: { line: lines.length, column: lines.at(-1)!.length + 1, offset: text.length } };
  return root;
}
