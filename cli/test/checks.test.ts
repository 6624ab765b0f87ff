import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { diagnostic } from '../../common/diagnostics.ts';
import { runCli } from '../../runner/test/helpers.ts';
import { checkCommand, lintCommand } from '../commands/checks.ts';
import { captureIO, copyPlatform, edit, PLATFORM, ROOT, SAMPLE, tempDir } from '../../checks/testing.ts';

const NOW = new Date('2026-07-01T00:00:00Z');
const sample = path.join(ROOT, SAMPLE);

function writeDoc(content: string): string {
  const file = path.join(tempDir(), 'runbook.md');
  writeFileSync(file, content);
  return file;
}

describe('runbook lint', () => {
  it('exits 0 on a clean runbook and says so on stderr only', async () => {
    const io = captureIO();
    assert.equal(await lintCommand({ file: sample }, io), 0);
    assert.deepEqual(io.out, []);
    assert.deepEqual(io.err, [`runbook lint: ${sample}: no problems`]);
  });

  it('exits 1 with one formatted diagnostic per line on stdout and a summary on stderr', async () => {
    const file = writeDoc('---\ntitle: T\n---\n\n```bash\necho $API_TOKEN\n```\n');
    const io = captureIO();
    assert.equal(await lintCommand({ file }, io), 1);
    assert.deepEqual(io.out, [
      `${file}:1:1-1:4: Unexpected front matter without \`owner\`, \`backup-owner\`, \`last-validated\`, \`validation-method\`, \`severity\`, \`time-to-complete\`, \`related-services\`, expected every required key [front-matter-required]`,
      `${file}:6:6-6:16: Unexpected secret \`$API_TOKEN\` printed by \`echo\`, expected it written to a file or piped, never printed [no-secret-output]`,
    ]);
    assert.deepEqual(io.err, [`runbook lint: ${file}: 2 problems (2 errors, 0 warnings)`]);
  });

  it('exits 2 for a document the parser rejects, still listing why', async () => {
    const file = writeDoc('---\ntitle: [unclosed\n---\n');
    const io = captureIO();
    assert.equal(await lintCommand({ file }, io), 2);
    assert.ok(io.out.some((line) => line.endsWith('[front-matter-yaml]')), io.out.join('\n'));
  });

  it('exits 2 for a missing file or a bad flag, without a stack trace', async () => {
    const io = captureIO();
    assert.equal(await lintCommand({ file: 'no-such-runbook.md' }, io), 2);
    assert.deepEqual(io.out, []);
    assert.match(io.err[0]!, /^runbook lint: cannot read no-such-runbook\.md: no such file$/);
    // Flags are commander's: the one program refuses an unknown one before any command runs.
    const flag = await runCli(['lint', sample, '--nope']);
    assert.equal(flag.code, 2);
    assert.equal(flag.stdout, '');
    assert.match(flag.stderr, /^error: unknown option '--nope'/);
    assert.doesNotMatch(flag.stderr, /at .*\.ts:\d+/);
  });
});

describe('runbook check', () => {
  it('exits 0 when the runbook matches the repo', async () => {
    const io = captureIO();
    assert.equal(await checkCommand({ file: sample, repo: PLATFORM }, { now: NOW, io }), 0);
    assert.deepEqual(io.out, []);
  });

  it('exits 1 on drift, naming the runbook line', async () => {
    const platform = copyPlatform();
    try {
      edit(platform.dir, 'docker-compose.production.yml', '  backend-gateway:', '  api-gateway:');
      const io = captureIO();
      assert.equal(await checkCommand({ file: sample, repo: platform.dir }, { now: NOW, io }), 1);
      assert.deepEqual(io.out, [
        `${sample}:46:154-46:169: Unexpected compose service or container \`backend-gateway\`, expected one of: api-gateway, backend-b2b, celery-beat, celery-worker, curateme-backend-b2b, curateme-backend-gateway, curateme-celery-beat, curateme-celery-worker, curateme-runner-agent, runner-agent [drift-compose]`,
      ]);
    } finally {
      platform.dispose();
    }
  });

  it('exits 1 when the runbook is stale, and --max-age decides what stale means', async () => {
    const io = captureIO();
    const now = new Date('2026-11-30T00:00:00Z');
    assert.equal(await checkCommand({ file: sample, repo: PLATFORM }, { now, io }), 1);
    assert.equal(await checkCommand({ file: sample, repo: PLATFORM, maxAge: '365' }, { now, io }), 0);
  });

  it('exits 2 for usage mistakes', async () => {
    const io = captureIO();
    assert.equal(await checkCommand({ file: sample, maxAge: 'soon' }, { io }), 2);
    assert.equal(await checkCommand({ file: sample, repo: '/no/such/repo' }, { io }), 2);
    assert.equal(await checkCommand({ file: sample, replay: true }, { io }), 2);
    assert.deepEqual(io.err, [
      'runbook check: --max-age expects a whole number of days, got `soon`',
      'runbook check: platform repo not found: /no/such/repo (give one with --repo DIR)',
      'runbook check: --replay is not available in this build',
    ]);
  });

  it('reports replay failures as drift', async () => {
    const io = captureIO();
    const failed = diagnostic('Unexpected output, expected what the expect block documents', {
      file: sample,
      place: { line: 30, column: 1 },
      ruleId: 'run-expect',
      note: 'expected: status 200\nactual:   status 401',
    });
    const replay = async () => ({ messages: [failed] });
    assert.equal(await checkCommand({ file: sample, repo: PLATFORM, replay: true }, { now: NOW, io, replay }), 1);
    assert.deepEqual(io.out, [
      `${sample}:30:1: Unexpected output, expected what the expect block documents [run-expect]`,
      '    expected: status 200',
      '    actual:   status 401',
    ]);
  });
});
