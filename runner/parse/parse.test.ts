import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../common/diagnostics.ts';
import { parseRunbook } from './index.ts';

const fence = '```';
const diagnostics = (source: string) => parseRunbook(source, 'rb.md').messages.map(formatDiagnostic);

describe('parseRunbook', () => {
  it('reads steps with their verify, expect and rollback blocks in the same section', () => {
    const { runbook, messages } = parseRunbook(
      [
        '# Create the secret',
        '',
        'Click **Add**.',
        '',
        `${fence}ts step id=create timeout=2m retries=1 confirm`,
        'return 1',
        fence,
        `${fence}ts verify`,
        'expect(result.value).toBe(1)',
        fence,
        `${fence}text expect`,
        'ok',
        fence,
        `${fence}ts rollback`,
        'undo()',
        fence,
      ].join('\n'),
      'rb.md',
    );
    assert.deepEqual(messages, []);
    const [step] = runbook.steps;
    assert.equal(step?.id, 'create');
    assert.equal(step?.intro, 'Click **Add**.');
    assert.equal(step?.block.codeLine, 6);
    assert.deepEqual(step?.options, { timeoutMs: 120_000, retries: 1, retryDelayMs: 250, confirm: true, manual: false, onDemand: false, irreversible: false });
    assert.equal(step?.verifies.length, 1);
    assert.equal(step?.expects[0]?.code, 'ok');
    assert.equal(step?.rollback?.span.start.line, 14);
  });

  it('derives ids from headings and keeps them unique', () => {
    const { runbook } = parseRunbook(`# Step 1: Do it\n${fence}ts step\n${fence}\n${fence}ts step\n${fence}\n# Other\n${fence}ts step\n${fence}\n`, 'rb.md');
    assert.deepEqual(runbook.steps.map((step) => step.id), ['step-1-do-it', 'step-1-do-it-1', 'other']);
  });

  it('never runs prose fences', () => {
    const { runbook } = parseRunbook(`# A\n${fence}ts\nrm -rf /\n${fence}\n${fence}bash\nls\n${fence}\n${fence}ts step\nok\n${fence}\n`, 'rb.md');
    assert.equal(runbook.blocks.length, 1);
    assert.equal(runbook.steps[0]?.block.code, 'ok');
  });

  it('reports an unknown role at the word', () => {
    assert.deepEqual(diagnostics(`# A\n${fence}ts stpe\n${fence}\n`), [
      'rb.md:2:7-2:11: Unexpected role `stpe`, expected one of: step, verify, expect, rollback, setup [unknown-role]',
    ]);
  });

  it('reports an unknown attribute and a bad duration', () => {
    assert.deepEqual(diagnostics(`# A\n${fence}ts step colour=red timeout=soon retries=x\n${fence}\n`), [
      'rb.md:2:12-2:22: Unexpected attribute `colour` on a `step` block, expected one of: id, timeout, retries, retry-delay, when, confirm, manual, on-demand, irreversible, rollback, reason [unknown-attribute]',
      'rb.md:2:23-2:35: Unexpected timeout `soon`, expected a duration such as `30s` or `2m` [attribute-value]',
      'rb.md:2:36-2:45: Unexpected retries `x`, expected a whole number such as `2` [attribute-value]',
    ]);
  });

  it('reports duplicate ids at the second one', () => {
    assert.deepEqual(diagnostics(`# A\n${fence}ts step id=x\n${fence}\n# B\n${fence}ts step id=x\n${fence}\n`), [
      'rb.md:5:12-5:16: Unexpected duplicate step id `x`, expected a unique id (first used on line 2) [duplicate-id]',
    ]);
  });

  it('reports verify, expect and rollback blocks with no step in their section', () => {
    assert.deepEqual(diagnostics(`# A\n${fence}ts step\n${fence}\n# B\n${fence}ts verify\n${fence}\n${fence}text expect\n${fence}\n`), [
      'rb.md:5:1-5:13: Unexpected `verify` block with no step before it in its section, expected a `ts step` block above it [orphan-block]',
      'rb.md:7:1-7:15: Unexpected `expect` block with no step before it in its section, expected a `ts step` block above it [orphan-block]',
    ]);
  });

  it('reports a runnable fence that is never closed', () => {
    assert.deepEqual(diagnostics(`# A\n\n${fence}ts step\nawait $\`ls\`\n`), [
      'rb.md:3:1-3:11: Unclosed `step` fence, expected a closing fence before the end of the document [unclosed-fence]',
    ]);
  });

  it('reports malformed front matter at its line', () => {
    assert.deepEqual(diagnostics(`---\ntitle: A\nowner: [unclosed\n---\n# A\n`), [
      'rb.md:3:17-3:18: Malformed front matter: Flow sequence in block collection must be sufficiently indented and end with a ] [front-matter-yaml]',
    ]);
  });

  it('keeps unknown front matter keys and reads targets', () => {
    const { runbook, messages } = parseRunbook(
      `---\ntitle: A\ncustom-key: 7\ntargets:\n  prod:\n    ssh: host\n  sandbox:\n    sandbox: true\ndefault-target: sandbox\n---\n`,
      'rb.md',
    );
    assert.deepEqual(messages, []);
    assert.equal(runbook.frontMatter.data['custom-key'], 7);
    assert.equal(runbook.frontMatter.targets['sandbox']?.sandbox, true);
    assert.equal(runbook.frontMatter.targets['prod']?.settings['ssh'], 'host');
    assert.deepEqual(runbook.frontMatter.keySpans['custom-key']?.start, { line: 3, column: 1 });
  });

  it('rejects a default-target that is not declared', () => {
    assert.deepEqual(diagnostics(`---\ntargets:\n  prod: {}\ndefault-target: staging\n---\n`), [
      'rb.md:4:1-4:15: Unexpected default-target `staging`, expected one of: prod [front-matter-value]',
    ]);
  });

  it('parses CRLF documents with the same positions', () => {
    const lf = `# A\n${fence}ts step id=a\nreturn 1\n${fence}\n${fence}ts verify\n${fence}\n`;
    const crlf = parseRunbook(lf.replace(/\n/g, '\r\n'), 'rb.md');
    assert.deepEqual(crlf.messages, []);
    assert.equal(crlf.runbook.steps[0]?.block.code, 'return 1');
    assert.equal(crlf.runbook.steps[0]?.verifies[0]?.span.start.line, 5);
  });

  it('requires a reason for rollback=none', () => {
    assert.deepEqual(diagnostics(`# A\n${fence}ts step rollback=none\n${fence}\n`), [
      'rb.md:2:12-2:25: Unexpected `rollback=none` without a reason, expected reason="why nothing can be undone" [attribute-value]',
    ]);
    const { runbook } = parseRunbook(`# A\n${fence}ts step rollback=none reason="read only"\n${fence}\n`, 'rb.md');
    assert.equal(runbook.steps[0]?.options.rollbackNone, 'read only');
  });

  it('rejects a step in a language that cannot run', () => {
    assert.deepEqual(diagnostics(`# A\n${fence}bash step\nls\n${fence}\n`), [
      'rb.md:2:1-2:13: Unexpected language `bash` for a `step` block, expected `ts` [block-language]',
    ]);
  });
});
