/**
 * Nothing a run leaves behind is readable by another local user: `.runbook/` and its folders are 700, every file in
 * it 600 (journals, locks, caches), a file `secrets.write` makes is 600 from its first byte, and so are the reports.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fence, runCli } from './helpers.ts';

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(entry.parentPath, entry.name);
    return entry.isDirectory() ? [full, ...walk(full)] : [full];
  });
}

const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);

describe('files a run leaves', () => {
  it('are 600 (the journal 400) in 700 folders: .runbook/, the secret file, the reports', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'runbook-private-'));
    // A workspace from before the rule: its .runbook/ was world-readable.
    await mkdir(path.join(dir, '.runbook'), { mode: 0o755 });
    const file = path.join(dir, 'rb.md');
    writeFileSync(
      file,
      `# Private\n\n## Write\n\n${fence}ts step rollback=none reason="test"\nawait secrets.write(path.join(os.tmpdir(), '${path.basename(dir)}', 'out', 'secret.txt'), 'a-secret-value-1234', 'S')\nstate.done = true\n${fence}\n`,
    );
    const { code, stderr } = await runCli(['run', file, '--reporter', 'plain,markdown,junit', '--out', path.join(dir, 'reports')], { cwd: dir });
    assert.equal(code, 0, stderr);
    const runbookDir = path.join(dir, '.runbook');
    const entries = [runbookDir, ...walk(runbookDir)];
    assert.ok(entries.some((entry) => entry.includes(`${path.sep}runs${path.sep}`)), 'a journal was written');
    assert.ok(entries.some((entry) => entry.includes(`${path.sep}cache${path.sep}`)), 'a cache was written');
    // The journal is read-only even to its owner but for the runner's own handle (see runner/journal/journal.ts).
    const expected = (entry: string) => (statSync(entry).isDirectory() ? '700' : path.basename(entry) === 'journal.jsonl' ? '400' : '600');
    for (const entry of entries) assert.equal(mode(entry), expected(entry), entry);
    assert.equal(mode(path.join(dir, 'out', 'secret.txt')), '600');
    for (const report of walk(path.join(dir, 'reports'))) assert.equal(mode(report), '600', report);
  });
});
