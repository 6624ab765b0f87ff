import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test } from '@playwright/test';
import { htmlReporter } from '../runner/report/html.ts';
import { runFile } from '../runner/run.ts';

const fence = '```';

/**
 * A run an auditor would want to read: a sandbox that answers a confirm and an operator step (and says so), a
 * `when=` skip, a failed verify that turns the run back (two rollbacks, newest first), and a step never reached.
 */
const DOCUMENT = [
  '---',
  'title: Audited rotation',
  'targets:',
  '  sandbox:',
  '    sandbox: true',
  '  prod:',
  '    host: example',
  'default-target: sandbox',
  '---',
  '',
  '# Audited rotation',
  '',
  '## Create the secret',
  '',
  'Click **+ New client secret**, then **Add**.',
  '',
  `${fence}ts step manual`,
  "console.log('created secret graph-2026-12')",
  fence,
  '',
  `${fence}ts rollback`,
  "console.log('deleted secret graph-2026-12')",
  fence,
  '',
  '## Update the env file',
  '',
  `${fence}ts step confirm`,
  "console.log('env updated <b>not markup</b>')",
  fence,
  '',
  `${fence}ts verify`,
  "expect('MICROSOFT_GRAPH_CLIENT_SECRET=old').toContain('new')",
  fence,
  '',
  `${fence}ts rollback`,
  "console.log('env restored from backup')",
  fence,
  '',
  '## Production only',
  '',
  `${fence}ts step when=prod`,
  fence,
  '',
  '## Delete the old secret',
  '',
  `${fence}ts step`,
  fence,
  '',
].join('\n');

test('the executed runbook opens as one self-contained page that shows who ran what, how it ended and why', async ({ page }, testInfo) => {
  // The run itself happens in the test (a real engine, its shells): give a loaded machine time for it.
  test.setTimeout(90_000);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'runbook-html-'));
  const file = path.join(dir, 'rotation.md');
  writeFileSync(file, DOCUMENT);
  const out = testInfo.outputPath('record');
  const result = await runFile({ file, reporters: [htmlReporter(out)], sandbox: async () => ({ facts: {}, release: async () => {} }) });
  expect(result.exitCode).toBe(1);

  // Nothing but the page itself may load: an auditor opens it offline, from an archive.
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  const url = pathToFileURL(path.join(out, 'rotation.executed.html')).href;
  await page.goto(url);
  expect(requests).toEqual([url]);

  const header = page.locator('header.record');
  await expect(header.getByRole('heading', { name: 'Executed runbook' })).toBeVisible();
  await expect(header.locator('[data-fact="run"]')).toHaveText(result.runId);
  await expect(header.locator('[data-fact="target"]')).toHaveText('sandbox (sandbox)');
  await expect(header.locator('[data-fact="operator"]')).toContainText(`${os.userInfo().username}`);
  await expect(header.locator('[data-fact="operator"]')).toContainText('identified by OS user');
  await expect(header.locator('[data-fact="host"]')).toHaveText(os.hostname());
  await expect(header.locator('[data-fact="tool"]')).toContainText(/^runbook \d+\.\d+\.\d+ \(node v/);
  await expect(header.locator('[data-fact="document"]')).toContainText(/sha256 [0-9a-f]{64}$/);
  await expect(header.locator('[data-fact="counts"]')).toHaveText('1 passed, 1 failed, 1 skipped, 1 not reached; rollbacks: 2 passed, 0 failed, 0 not run');

  // The document reads as a document: its headings and prose are there, rendered.
  await expect(page.getByRole('heading', { name: 'Update the env file' })).toBeVisible();
  await expect(page.locator('strong', { hasText: '+ New client secret' })).toBeVisible();

  const created = page.locator('section.outcome[data-block="create-the-secret"]');
  await expect(created).toContainText('operator action: automate · answered by sandbox automation');
  await expect(created).toContainText(/step passed · started \d{4}-\d\d-\d\dT[\d:.]+Z · \d+ms/);
  await expect(created.locator('pre.output')).toHaveText('created secret graph-2026-12');

  const env = page.locator('section.outcome[data-block="update-the-env-file"]');
  await expect(env).toContainText('confirmation: yes · answered by sandbox automation');
  // Output is text, never markup.
  await expect(env.locator('pre.output')).toHaveText('env updated <b>not markup</b>');
  const verify = page.locator('section.outcome[data-block="update-the-env-file/verify-1"]');
  await expect(verify.locator('[data-tone="failed"]')).toBeVisible();
  await expect(env).toContainText('step failed: update-the-env-file/verify-1 failed');
  // The place is the failing line, or the verify block when a stack frame cannot be mapped: Playwright's own
  // source-map support rewrites stacks in its worker (a second run of this test in one worker shows it).
  await expect(verify.locator('pre.message')).toContainText(/rotation\.md:3[1-3]:\d+(-\d+:\d+)?: expect\(received\)\.toContain\(expected\) .*\[run-verify\]/);

  await expect(page.locator('section.outcome[data-block="production-only"]')).toContainText('skipped: when=prod (target sandbox)');
  await expect(page.locator('section.outcome[data-block="delete-the-old-secret"]')).toContainText(
    'not reached: the run stopped at update-the-env-file before this step',
  );
  await expect(page.locator('section.outcome[data-block="update-the-env-file/rollback"]')).toContainText('1st rollback to run');
  await expect(page.locator('section.outcome[data-block="create-the-secret/rollback"]')).toContainText('2nd rollback to run');
  await expect(page.locator('section.rollbacks li')).toHaveText([/^update-the-env-file\/rollback passed · started /, /^create-the-secret\/rollback passed · started /]);

  await page.screenshot({ path: testInfo.outputPath('executed-runbook.png'), fullPage: true });
});
