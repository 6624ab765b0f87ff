/**
 * The full rotation of runbook.md, replayed on the sandbox with its portal steps done in Chromium by following the
 * click path its prose writes. The runner executes the document itself (`runFile`); the browser is its operator.
 *
 * The secret value and the artifacts: the portal shows a new value once, right after **Add**, until the operator
 * leaves the page. Playwright's trace records DOM snapshots, network bodies and screencast frames of whatever the page
 * shows, so the trace is stopped there: what was recorded so far is saved (and attached as a trace), nothing is
 * recorded from **Add** through **Copy to clipboard**, the page is reloaded (the portal then shows only the value's
 * hint) and a new trace starts, which Playwright keeps as trace.zip. The one screenshot taken while the value is on
 * screen masks the Value column. The second test then searches every artifact of the run for every secret the tenant
 * ever issued.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page, TestInfo } from '@playwright/test';
import type { Step } from '../runner/model.ts';
import { controlRequest } from '../sandbox/client.ts';
import { GRAPH_SCOPES, msalClient } from '../sandbox/test/helpers.ts';
import { envFileOf, envFileSecret, sha256 } from './helpers.ts';
import type { Interaction } from '../runner/execute/engine.ts';
import { jsonReporter } from '../runner/report/json.ts';
import { junitReporter } from '../runner/report/junit.ts';
import { markdownReporter } from '../runner/report/markdown.ts';
import { htmlReporter } from '../runner/report/html.ts';
import { plainReporter } from '../runner/report/plain.ts';
import { runFile } from '../runner/run.ts';
import type { ContainerView } from '../sandbox/platform/docker/types.ts';
import type { ApprovalRow } from '../sandbox/platform/backend/db.ts';
import type { SandboxHandle } from '../sandbox/index.ts';
import { platformOf } from '../sandbox/platform/index.ts';
import { followClickPath, introLine, parseClickPath } from './click-path.ts';
import { expect, test } from './fixtures.ts';
import { describeFinding, filesUnder, sandboxSecrets, scanForSecrets } from './leak-scan.ts';

test.describe.configure({ mode: 'serial' });

const runbookFile = path.resolve(import.meta.dirname, '..', 'runbook.md');
const runbookName = path.relative(process.cwd(), runbookFile);

interface Credential {
  keyId: string;
  displayName: string;
  endDateTime: string;
}

/** What the leak scan of the second test searches: the first test's output folder (reports, workspace, traces). */
let rotationOutputDir: string | undefined;

/**
 * Stops the trace (saving and attaching what was recorded so far) and returns how to start a new one. A full stop, not
 * a chunk: a browser context's trace chunks share one network log that keeps recording between chunks (response
 * bodies included), so only a stopped trace records nothing. A context that is not traced has nothing to pause.
 */
async function pauseTracing(context: BrowserContext, testInfo: TestInfo, name: string): Promise<() => Promise<void>> {
  const part = testInfo.outputPath(`trace-before-${name.replace(/\W+/g, '-')}.zip`);
  try {
    await context.tracing.stop({ path: part });
  } catch (error) {
    if (/tracing/i.test(String(error))) return async () => undefined;
    throw error;
  }
  await testInfo.attach('trace', { path: part, contentType: 'application/zip' });
  // The options Playwright Test itself traces with; the test runner stops this trace and merges it into trace.zip.
  return async () => {
    await context.tracing.start({ screenshots: true, snapshots: true, sources: true, title: `${testInfo.title} (after ${name})` });
  };
}

/** The Value column's cells: what a screenshot must mask while a value is on screen. */
async function valueCells(page: Page) {
  const table = page.getByRole('table', { name: 'Client secrets' });
  const headers = (await table.getByRole('columnheader').allTextContents()).map((text) => text.trim());
  const column = headers.indexOf('Value') + 1;
  if (column === 0) throw new Error('the Client secrets table has no Value column');
  return table.locator(`tbody tr > td:nth-child(${column})`);
}

test('replays the full rotation of runbook.md, its portal steps clicked in Chromium', async ({ page, context, sandbox }, testInfo) => {
  // The rotation alone takes about 35 s on an idle machine (13 steps, a recreation of four containers); a shared CI runner
  // needs headroom, or the replay fails on load instead of on what it checks.
  test.setTimeout(150_000);
  const facts = sandbox.facts as Record<string, string>;
  const platform = platformOf(sandbox.context);
  if (!platform) throw new Error('the sandbox has no platform side');
  const caPem = readFileSync(facts['ca-file']!, 'utf8');
  const credentials = async () => (await (await controlRequest(facts, 'GET', '/tenant/credentials')).json()) as Credential[];
  const approvals = async () => (await (await platform.backendFetch('backend-b2b', '/admin/approvals')).json()) as ApprovalRow[];

  const oldKeyIds = (await credentials()).map((credential) => credential.keyId);
  const approvalsBefore = new Set((await approvals()).map((approval) => approval.id));
  const source = readFileSync(runbookFile, 'utf8');

  /** The operator's hands: each manual step's prose, clicked through in the portal. */
  async function operate(step: Step): Promise<'done' | 'automate'> {
    const actions = parseClickPath(step.intro, { file: runbookName, line: introLine(source, step) });
    // A manual step whose prose names nothing in the portal (send the test email) is left to its automation.
    if (actions.length === 0) return 'automate';
    if (page.url() === 'about:blank') await page.goto(facts.portal!); // "Open the Entra admin center"
    const shownOnce = {
      from: 'Add',
      through: 'Copy to clipboard',
      run: async (body: () => Promise<void>) => {
        const resume = await pauseTracing(context, testInfo, 'value shown');
        try {
          await body();
          await expect(page.getByRole('status')).toHaveText('Copied');
          await page.screenshot({ path: testInfo.outputPath('new-client-secret.png'), mask: [await valueCells(page)] });
          await testInfo.attach('new client secret (value masked)', { path: testInfo.outputPath('new-client-secret.png'), contentType: 'image/png' });
        } finally {
          // The portal renders the value once: a reload shows only its hint, so nothing recorded from here holds it.
          await page.reload().catch(() => page.goto('about:blank'));
          await resume();
        }
      },
    };
    if (step.id !== 'delete-old-secret') {
      await followClickPath(page, actions, { shownOnce });
    } else {
      // "Find the previous secret": each secret that was there before this run, one pass of the prose per secret.
      for (const keyId of oldKeyIds) {
        const within = page.getByRole('table', { name: 'Client secrets' }).getByRole('row').filter({ hasText: keyId });
        await followClickPath(page, actions, { within });
      }
    }
    return 'done';
  }

  let operatorError: unknown;
  const interaction: Interaction = {
    interactive: true,
    confirm: async () => true,
    manual: async (step) => {
      try {
        return await test.step(`${step.id}: the operator's part (${runbookName}:${step.block.span.start.line})`, () => operate(step));
      } catch (error) {
        operatorError = error;
        return 'abort';
      }
    },
  };

  rotationOutputDir = testInfo.outputDir;
  const reports = testInfo.outputPath('runner');
  mkdirSync(reports, { recursive: true });
  const printed: string[] = [];
  const events: string[] = [];
  const result = await runFile({
    file: runbookFile,
    target: 'sandbox',
    workspace: testInfo.outputPath('workspace'),
    manualSteps: 'operator',
    interaction,
    // The worker's sandbox, shared with the other tests of this worker: the run must not stop it.
    sandbox: async () => ({ facts: { ...facts }, release: async () => undefined }),
    reporters: [plainReporter((text) => printed.push(text)), jsonReporter((text) => events.push(text)), junitReporter(reports), markdownReporter(reports), htmlReporter(reports)],
  }).finally(() => {
    writeFileSync(testInfo.outputPath('runner', 'stdout.txt'), printed.join(''));
    writeFileSync(testInfo.outputPath('runner', 'events.jsonl'), events.join(''));
  });
  if (operatorError) throw operatorError;
  expect(result.exitCode, printed.join('')).toBe(0);
  expect([...result.steps].filter(([, status]) => status === 'passed').map(([id]) => id)).toEqual(
    expect.arrayContaining(['create-secret', 'capture-secret', 'update-env', 'recreate', 'token-roundtrip', 'send-test-email', 'watch-ingest', 'delete-old-secret']),
  );

  await test.step('only the new secret exists in the tenant', async () => {
    const now = await credentials();
    expect(now).toHaveLength(1);
    expect(oldKeyIds).not.toContain(now[0]!.keyId);
    expect(Date.parse(now[0]!.endDateTime)).toBeGreaterThan(Date.now());
  });

  const secretFile = result.target.get('secret-file');
  const envFile = envFileOf(facts);
  await test.step('the VPS env holds the captured secret (compared by digest)', async () => {
    const envDigest = sha256(envFileSecret(facts));
    expect(envDigest).toBe(sha256(readFileSync(secretFile, 'utf8').replace(/\n$/, '')));
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
  });

  await test.step('both backend containers were recreated after the env file was edited', async () => {
    // Container times are sandbox-clock milliseconds; the file's mtime is real time.
    const offset = sandbox.context.clock.now() - Date.now();
    const edited = statSync(envFile).mtimeMs;
    const containers = (await (await controlRequest(facts, 'GET', '/containers')).json()) as ContainerView[];
    for (const service of ['backend-b2b', 'backend-gateway']) {
      const running = containers.find((container) => container.service === service && container.state === 'running');
      expect(running, `${service} is running`).toBeTruthy();
      expect(running!.startedAt - offset).toBeGreaterThan(edited);
      expect(running!.health).toBe('healthy');
    }
  });

  await test.step('msal-node mints a token with the new secret', async () => {
    const app = msalClient(facts, caPem, readFileSync(secretFile, 'utf8').replace(/\n$/, ''));
    const token = await app.acquireTokenByClientCredential({ scopes: GRAPH_SCOPES, skipCache: true });
    expect(token?.accessToken).toBeTruthy();
  });

  await test.step('the test email became a pending approval', async () => {
    const fresh = (await approvals()).filter((approval) => !approvalsBefore.has(approval.id));
    expect(fresh.map(({ status, sender }) => ({ status, sender }))).toContainEqual({ status: 'pending', sender: facts['verified-sender'] });
  });

  await test.step('the invariant monitor saw no both-dead window and no leak', async () => {
    platform.monitor.check();
    platform.monitor.scan();
    const report = platform.monitor.report();
    expect(report.bothDead).toEqual([]);
    expect(report.leaks).toEqual([]);
  });

  // The portal, as the operator leaves it: one secret, its value masked to a hint.
  await expect(page.getByRole('table', { name: 'Client secrets' }).getByRole('row')).toHaveCount(2);
});

/**
 * Every artifact of the rotation searched for the sandbox's credential (the browser proves it to the sandbox's proxy,
 * so no request a trace records carries it) and every secret the tenant ever issued (deleted ones included).
 */
function scanRotationArtifacts(sandbox: SandboxHandle, outputDir: string) {
  const tenant = sandbox.context.tenant;
  if (!tenant) throw new Error('the sandbox has no tenant');
  const secrets = sandboxSecrets(sandbox.facts, tenant);
  // The rotation's output folder holds the runner's reports (plain, json, junit, markdown), the run's workspace
  // (journal under .runbook/runs, compile cache), the screenshots and the traces (written when that test ended).
  const artifacts = filesUnder(outputDir);
  const containerLogs = filesUnder(path.join(sandbox.context.dir, 'platform', 'containers')).filter((file) => file.endsWith('.log'));
  return {
    secrets,
    names: artifacts.map((file) => path.relative(outputDir, file)),
    containerLogs,
    findings: scanForSecrets([...artifacts, sandbox.context.log.path, ...containerLogs], secrets).map(describeFinding),
  };
}

let scanned = false;

test('leaves neither the sandbox credential nor any secret or access token the tenant issued in any artifact of the rotation', async ({ sandbox }) => {
  if (!rotationOutputDir) throw new Error('the rotation did not run in this worker');
  const { secrets, names, containerLogs, findings } = scanRotationArtifacts(sandbox, rotationOutputDir);
  scanned = true;
  expect(secrets.length).toBeGreaterThanOrEqual(3); // the credential, the seeded secret and the rotated-in one at least
  expect(sandbox.context.tenant!.knownTokenValues().length).toBeGreaterThan(0); // and the access tokens of the run
  expect(names).toEqual(
    expect.arrayContaining([
      'trace.zip',
      'trace-before-value-shown.zip',
      'new-client-secret.png',
      'test-finished-1.png',
      path.join('runner', 'stdout.txt'),
      path.join('runner', 'events.jsonl'),
      path.join('runner', 'junit.xml'),
      path.join('runner', 'runbook.executed.md'),
      path.join('runner', 'runbook.executed.html'),
    ]),
  );
  expect(names.some((name) => /^workspace\/\.runbook\/runs\/[^/]+\/journal\.jsonl$/.test(name))).toBe(true);
  expect(containerLogs.length).toBeGreaterThan(0);
  expect(findings).toEqual([]);
});

// A failed rotation skips the test above (the tests are serial), and its artifacts (rollbacks, error context, the
// screenshot at the failure) need the scan most: run it here then.
test.afterAll(async ({ sandbox }) => {
  if (scanned || !rotationOutputDir) return;
  expect(scanRotationArtifacts(sandbox, rotationOutputDir).findings).toEqual([]);
});
