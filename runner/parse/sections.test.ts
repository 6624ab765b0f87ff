import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import remarkFrontmatter from 'remark-frontmatter';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
import type { Root } from 'mdast';
import { repoPath } from '../../common/repo.ts';
import { parseInPieces, pieceStarts } from './sections.ts';

const processor = unified().use(remarkParse).use(remarkFrontmatter, ['yaml']);
const parse = (text: string) => processor.parse(text) as Root;
const fence = '```';
/** A runbook of `steps` sections (heading, prose, step, verify), as long documents are written. */
const generateRunbook = (steps: number) =>
  ['---', 'title: Generated', '---', '', ...Array.from({ length: steps }, (_, i) => `## Step ${i}\n\nPrints ${i}.\n\n${fence}ts step id=s${i}\nawait $\`echo ${i}\`\n${fence}\n\n${fence}ts verify\nexpect(result.stdout).toBe('${i}\\n')\n${fence}\n`)].join('\n');
const filler = (n: number) => Array.from({ length: n }, (_, i) => `Line ${i} of prose, with \`code\` and *emphasis*.\n`).join('\n');

/** Every tree must be the whole parse's, positions included. */
function samePieces(text: string): number {
  let parses = 0;
  const pieces = parseInPieces(text, (piece) => {
    parses += 1;
    return parse(piece);
  });
  assert.deepEqual(pieces, parse(text));
  return parses;
}

describe('parsing a long document in pieces', () => {
  it('gives the whole parse of a generated 300-step runbook, in many pieces', () => {
    assert.ok(samePieces(generateRunbook(300)) > 50);
  });

  it('gives the whole parse of runbook.md', () => {
    samePieces(readFileSync(repoPath('runbook.md'), 'utf8'));
  });

  it('parses whole when a fence left open would run across the headings', () => {
    const text = `${filler(45)}\n${fence}ts step\nconst a = 1\n\n# Not a heading, inside the fence\n${filler(45)}\n## Still inside\n`;
    assert.deepEqual(pieceStarts(text.split('\n')), [0]);
    samePieces(text);
  });

  it('parses whole when a list item\'s fence is closed by an unindented fence, which opens a new one', () => {
    const text = `${filler(45)}\n- item\n\n  ${fence}\n  code\n${fence}\n${filler(45)}\n## Inside the new fence\n${filler(45)}\n## And this\n`;
    samePieces(text);
  });

  it('parses whole when an HTML block reaches a heading, or a link reference is defined', () => {
    samePieces(`${filler(45)}\n<div>\n${filler(45)}\n## In the HTML block\n</div>\n${filler(45)}\n## Heading\n`);
    samePieces(`${filler(45)}\nSee [the guide][guide].\n\n## Heading\n${filler(45)}\n## Another\n\n[guide]: https://example.com\n`);
  });

  it('keeps offsets and front matter right across pieces, CRLF-free text with tildes and nested lists', () => {
    samePieces(`---\ntitle: x\n---\n\n${filler(45)}\n~~~~bash step\nls\n~~~\n~~~~\n\n## Two\n\n- a\n  - b\n\n    ${fence}\n    nested\n    ${fence}\n${filler(45)}\n# Three\n> quote\n${filler(10)}`);
  });
});
