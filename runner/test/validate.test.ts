import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { stampValidation, validateRunbook } from '../validate.ts';
import { collector, fence, repoRoot, runCli, writeRunbook } from './helpers.ts';

const header = (validated: string) =>
  `---\ntitle: T # the title\nowner: me\nlast-validated: ${validated}\nvalidation-method: by hand\nnotes: >-\n  folded text that is long enough to be folded if line width applied to it at all, which it must not\ntargets:\n  sandbox:\n    sandbox: true\n---\n`;
const noSandbox = async () => ({ facts: {}, release: async () => {} });

describe('runbook validate', () => {
  it('stamps only last-validated and validation-method, leaving every other line as it was', async () => {
    const file = await writeRunbook(`${header('2026-01-01')}# A\n\ntext\n`);
    await stampValidation(file, '2026-11-30', 'sandbox run 42');
    const before = `${header('2026-01-01')}# A\n\ntext\n`.split('\n');
    const after = readFileSync(file, 'utf8').split('\n');
    assert.equal(after.length, before.length);
    const changed = after.map((line, index) => [line, before[index]]).filter(([a, b]) => a !== b).map(([a]) => a);
    assert.deepEqual(changed, ['last-validated: 2026-11-30', 'validation-method: sandbox run 42']);
  });

  it('keeps CRLF line endings', async () => {
    const file = await writeRunbook(`${header('2026-01-01')}# A\n`.replace(/\n/g, '\r\n'));
    await stampValidation(file, '2026-11-30', 'm');
    const text = readFileSync(file, 'utf8');
    assert.equal(text.split('\r\n').length, text.split('\n').length);
    assert.match(text, /last-validated: 2026-11-30\r\n/);
  });

  it('stamps after a passing sandbox run and never after a failing one', async () => {
    const passing = await writeRunbook(
      `${header('2026-01-01')}# A\n${fence}ts step\nconsole.log(target.name)\n${fence}\n# Diagnose\n${fence}ts step on-demand rollback=none reason="read-only"\n${fence}\n# Prod only\n${fence}ts step when=prod\n${fence}\n`.replace('targets:\n', 'targets:\n  prod:\n    ssh: x\n'),
    );
    const ok = await validateRunbook({ file: passing, reporters: [collector()], sandbox: noSandbox }, new Date('2026-11-30T10:00:00Z'));
    assert.equal(ok.run.exitCode, 0);
    assert.match(
      readFileSync(passing, 'utf8'),
      /last-validated: 2026-11-30\nvalidation-method: runbook validate on the sandbox target \(run \S+\), 1 of 3 steps ran and passed with their verify and expect blocks; did not run diagnose, prod-only\n/,
    );

    const source = `${header('2026-01-01')}# A\n${fence}ts step\nthrow new Error('drift')\n${fence}\n`;
    const failing = await writeRunbook(source);
    const failed = await validateRunbook({ file: failing, reporters: [collector()], sandbox: noSandbox });
    assert.equal(failed.run.exitCode, 1);
    assert.equal(readFileSync(failing, 'utf8'), source);
  });

  it('refuses a target that is not a sandbox', async () => {
    const file = await writeRunbook(`---\ntargets:\n  prod:\n    ssh: x\n---\n# A\n${fence}ts step\n${fence}\n`);
    const { code, stderr } = await runCli(['validate', file]);
    assert.equal(code, 2);
    assert.match(stderr, /Unexpected validation target `\(none\)`, expected a target with `sandbox: true` \[validate-target\]/);
  });

  it('validates the real runbook on the embedded sandbox and stamps it', async () => {
    const file = await writeRunbook('', 'runbook.md');
    copyFileSync(path.join(repoRoot, 'runbook.md'), file);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^last-validated: .*$/m, 'last-validated: 2020-01-01'));
    const out = path.join(path.dirname(file), 'reports');
    const { code, stderr } = await runCli(['validate', 'runbook.md', '--reporter', 'junit,markdown', '--out', out], { cwd: path.dirname(file) });
    assert.equal(code, 0, stderr);
    const today = new Date().toISOString().slice(0, 10);
    assert.match(readFileSync(file, 'utf8'), new RegExp(`^last-validated: ${today}$`, 'm'));
    assert.match(readFileSync(path.join(out, 'junit.xml'), 'utf8'), /testcase name="delete-old-secret \(runbook.md:\d+\)"/);
  });
});

describe('runbook check --replay', () => {
  it('reports a documented output that the sandbox no longer prints as drift, at its line', async () => {
    const file = await writeRunbook('', 'runbook.md');
    // The documented token line, made to claim a lifetime the sandbox never gives.
    const doctored = readFileSync(path.join(repoRoot, 'runbook.md'), 'utf8').replace(/^ok expires_in \[\.\.\] error None(.*)$/m, 'ok expires_in 7200 error None$1');
    writeFileSync(file, doctored);
    const line = doctored.split('\n').findIndex((text) => text.startsWith('ok expires_in 7200 error None')) + 1;
    assert.ok(line > 0, 'runbook.md documents the token round trip');
    const { code, stdout } = await runCli(['check', 'runbook.md', '--replay', '--repo', path.join(repoRoot, 'fixtures', 'platform')], { cwd: path.dirname(file) });
    assert.equal(code, 1);
    // The run's own message, passed on unchanged: its place, reason, rule id and note.
    assert.match(stdout, new RegExp(`^runbook\\.md:${line}:1: Unexpected output, expected what the expect block documents \\[run-expect\\]\n    expected: ok expires_in 7200 error None.*\n    actual:   ok expires_in \\d+ error None.*$`, 'm'));
  });
});
