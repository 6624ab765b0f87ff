import type { Root, RootContent } from 'mdast';
import type { Node } from 'unist';
import { visit } from 'unist-util-visit';
import { parseRunbook } from '../../runner/parse/index.ts';
import type { ParsedRunbook } from '../rule.ts';

/**
 * A docs site's blocks (MkDocs Material / Python-Markdown): an admonition `!!! note "Title"`, a collapsible
 * `??? example` / `???+ tip`, a content tab `=== "Compose"`, each followed by its body indented four spaces. The body
 * is Markdown (prose, inline code, fenced blocks), but CommonMark reads an indented body after a blank line as one
 * indented code block, fences and all, so every command and link inside it would be lost to the claim rules (which
 * never read an indented block as commands). docker-mailserver writes most of its docs in such blocks.
 */
const MARKER = /^([ \t]*)(!!!|\?\?\?\+?|===)(?=[ \t])/gm;
const STARTS_WITH_MARKER = /^[ \t]*(?:!!!|\?\?\?\+?|===)[ \t]/;

/**
 * Each block marker read as a list item's bullet: `!!! note` becomes `-   note`, whose content column is 4, so the
 * indented body is the item's Markdown. The replacement keeps every offset (same length, same line breaks).
 */
function asListItems(text: string): string {
  // `???+` is one character longer: a `.` fills it (the item's text starts `. tip`, the title stays prose); two
  // spaces after the bullet, then the marker's own space, make the content column 4 (3 for `???+`, which holds too).
  return text.replace(MARKER, (_, indent: string, marker: string) => `${indent}-  ${marker.length === 4 ? '.' : ''}`);
}

/** Moves every position of a tree parsed from a slice to where the slice sits in the document. */
function shift(tree: Node, offset: number, lines: number): void {
  visit(tree, (node) => {
    for (const point of node.position ? [node.position.start, node.position.end] : []) {
      point.line += lines;
      if (point.offset !== undefined) point.offset += offset;
    }
  });
}

/**
 * The document's tree with each docs-site block read as Markdown: only where the parser made a marker line and the
 * indented block after it (`paragraph` `!!! tip`, then `code` without a fence), that stretch is parsed again with the
 * markers read as list items (asListItems) and put in their place. Positions in the result are positions in the
 * document. The document's own tree (not a copy) when it has no such block.
 */
export function docsSiteTree(parsed: ParsedRunbook): Root {
  const source = parsed.runbook.source;
  MARKER.lastIndex = 0;
  if (!MARKER.test(source)) return parsed.tree;
  const tree = structuredClone(parsed.tree);
  let changed = false;
  visit(tree, (node, _index, parent) => {
    if (node.type !== 'code' || !parent) return;
    const siblings = parent.children as RootContent[];
    const at = siblings.indexOf(node as RootContent);
    const marker = siblings[at - 1];
    const start = marker?.type === 'paragraph' ? marker.position?.start.offset : undefined;
    const body = node.position?.start.offset;
    const end = node.position?.end.offset;
    if (start === undefined || body === undefined || end === undefined) return;
    // From the start of the marker's line, so that columns (and the body's indentation) stay as they are.
    const from = source.lastIndexOf('\n', start - 1) + 1;
    if (!STARTS_WITH_MARKER.test(source.slice(from, end))) return;
    // The block is the marker's body: indented four more than the marker (the parser may have read a body that
    // starts with a fence line as a fenced block; its source still shows the indentation).
    const indent = (offset: number) => /^[ \t]*/.exec(source.slice(source.lastIndexOf('\n', offset - 1) + 1))![0].replace(/\t/g, '    ').length;
    if (indent(body) < indent(start) + 4) return;
    const read = parseRunbook(asListItems(source.slice(from, end)), parsed.runbook.file).tree;
    shift(read, from, marker!.position!.start.line - 1);
    siblings.splice(at - 1, 2, ...read.children);
    changed = true;
    return at - 1 + read.children.length; // carry on after what was put in (already read as Markdown)
  });
  return changed ? tree : parsed.tree;
}
