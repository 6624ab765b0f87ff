import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../common/diagnostics.ts';
import { parseRunbookBounded } from './bounded.ts';
import { parseRunbook } from './index.ts';
import { LIMITS } from './limits.ts';

const fence = '```';
const messagesOf = (source: string) => parseRunbook(source, 'rb.md').messages.map(formatDiagnostic);

describe('document limits', () => {
  it('refuses a document over the size bound at the line where the bound falls', () => {
    const line = `${'x'.repeat(99)}\n`;
    const [message] = messagesOf(line.repeat(Math.ceil(LIMITS.documentBytes / line.length) + 10));
    assert.match(message!, /^rb\.md:10486:77: Unexpected document of \d+ bytes, expected at most 1048576 .*\[document-limit\]$/);
  });
  it('refuses 10,000 nested blockquotes and 100 nested lists with the line and its prefix', () => {
    assert.deepEqual(messagesOf(`# x\n\n${'>'.repeat(10_000)} deep\n`), [
      'rb.md:3:1-3:10001: Unexpected nesting of 10000 quotes and list items on one line, expected at most 32 [document-limit]',
    ]);
    const nested = Array.from({ length: 100 }, (_, depth) => `${'  '.repeat(depth)}- item\n`).join('');
    assert.deepEqual(messagesOf(nested), ['rb.md:66:1-66:131: Unexpected indentation of 130 columns, expected at most 128 (lists nested this deep) [document-limit]']);
  });
  it('lets code in a top-level fence be indented as deep as it likes', () => {
    const deep = `# x\n\n${fence}ts step rollback=none reason="x"\n${' '.repeat(400)}return 1\n${fence}\n`;
    assert.deepEqual(messagesOf(deep), []);
  });
  it('refuses a YAML alias bomb in the front matter at the front matter', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...'bcdefg'.split('').map((key, index) => `${key}: &${key} [${Array(9).fill(`*${'abcdefg'[index]}`).join(',')}]`)];
    const [message] = messagesOf(`---\n${bomb.join('\n')}\n---\n# x\n`);
    assert.match(message!, /^rb\.md:1:1-9:4: Malformed front matter: .*aliases are limited to 100\) \[front-matter-yaml\]$/);
  });
  it("refuses a timeout beyond Node's timer range at the attribute", () => {
    assert.deepEqual(messagesOf(`# x\n\n${fence}ts step timeout=25d rollback=none reason="x"\nreturn 1\n${fence}\n`), [
      "rb.md:3:12-3:23: Unexpected timeout `25d`, expected a duration of at most 24d (Node's timer range) [attribute-value]",
    ]);
  });
  it('stops a parse that uses more than its CPU budget, and parses a large ordinary document', async () => {
    const slow = await parseRunbookBounded(`${'[a] '.repeat(20)}\n`.repeat(5000), 'rb.md', 300);
    assert.deepEqual(slow.messages.map(formatDiagnostic), [
      'rb.md:1:1: Unexpected document the Markdown parser could not read within 0.3s, expected a simpler one (long runs of brackets, deep nesting) [document-limit]',
    ]);
    const steps = Array.from({ length: 1000 }, (_, index) => `## Step ${index}\n\nSome prose.\n\n${fence}ts step rollback=none reason="x"\nreturn ${index}\n${fence}\n`).join('\n');
    const large = await parseRunbookBounded(`# Large\n\n${steps}`, 'rb.md');
    assert.deepEqual(large.messages, []);
    assert.equal(large.runbook.steps.length, 1000);
  });
});
