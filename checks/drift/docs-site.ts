import type { Root } from 'mdast';
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

/**
 * The document's tree with each block marker read as a list item's bullet: `!!! note` becomes `-   note`, whose
 * content column is 4, so the indented body is the item's Markdown. The replacement keeps every offset (same length,
 * same line breaks), so positions in this tree are positions in the document. The document's own tree when it has
 * no such markers.
 */
export function docsSiteTree(parsed: ParsedRunbook): Root {
  const source = parsed.runbook.source;
  MARKER.lastIndex = 0;
  if (!MARKER.test(source)) return parsed.tree;
  // `???+` is one character longer: a `.` fills it (the item's text starts `. tip`, the title stays prose); two
  // spaces after the bullet, then the marker's own space, make the content column 4 (3 for `???+`, which holds too).
  const text = source.replace(MARKER, (_, indent: string, marker: string) => `${indent}-  ${marker.length === 4 ? '.' : ''}`);
  return parseRunbook(text, parsed.runbook.file).tree;
}
