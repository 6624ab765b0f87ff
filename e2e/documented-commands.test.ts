/**
 * Every `--from ID` and `--only ID` that runbook.md tells its reader to run works on the sandbox. The commands are
 * read from the document itself, so advice added later is tested too. One sandbox serves every case: a full
 * rotation first (the state a reader is in when the advice applies), then each documented command on it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { collector } from '../runner/test/helpers.ts';
import { runFile } from '../runner/run.ts';
import { startSandbox, type SandboxHandle } from '../sandbox/index.ts';
import { platformOf } from '../sandbox/platform/index.ts';
import { envFileOf, envFileSecret, sha256 } from './helpers.ts';

const runbookPath = path.resolve(import.meta.dirname, '..', 'runbook.md');

/**
 * `npx runbook run ... --from ID` / `--only ID` as the prose writes them. `--only <id>` stands for each diagnosis
 * (`diagnose-*`, the steps it introduces).
 */
export function documentedSelections(source: string): Array<{ flag: 'from' | 'only'; id: string }> {
  const found = new Map<string, { flag: 'from' | 'only'; id: string }>();
  const add = (flag: string, id: string) => found.set(`${flag} ${id}`, { flag: flag as 'from' | 'only', id });
  for (const match of source.matchAll(/`npx runbook run [^`]*--(from|only) ([A-Za-z0-9][\w.-]*|<id>)[^`]*`/g)) {
    if (match[2] !== '<id>') add(match[1]!, match[2]!);
    else for (const step of source.matchAll(/^```ts step id=(diagnose-[\w-]+)/gm)) add('only', step[1]!);
  }
  return [...found.values()];
}

describe('the --from and --only commands runbook.md gives its reader', { concurrency: false }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'documented-'));
  let sandbox: SandboxHandle;
  const run = async (selection: { from?: string; only?: string } = {}) => {
    const events = collector();
    const result = await runFile({
      file: runbookPath,
      target: 'sandbox',
      // What the reader answers at the prompts; the sandbox asks none.
      yes: true,
      ...selection,
      workspace: path.join(dir, 'workspace'),
      reporters: [events],
      sandbox: async () => ({ facts: { ...sandbox.facts }, release: async () => {} }),
    });
    const failures = events.of('step-end').filter((event) => event.failure).map((event) => `${event.stepId}: ${event.failure?.message}`);
    return { result, events, failures };
  };

  before(async () => {
    sandbox = await startSandbox({ dir: path.join(dir, 'sandbox') });
  });
  after(async () => {
    await sandbox?.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  /** A command on the sandbox VPS over the real OpenSSH client, as the operator types one by hand. */
  const onVps = (command: string) => new Promise<string>((resolve, reject) => {
    execFile('ssh', ['-F', sandbox.facts['ssh-config']!, sandbox.facts['ssh-host']!, command], (error, stdout, stderr) => (error ? reject(new Error(`${command}: ${stderr}`)) : resolve(stdout)));
  });

  /**
   * The situation a command is documented for, made before it runs, and what must hold after it. The by-hand restore
   * is for a rotation whose env edit went wrong before Step 7: here the operator started the next rotation by hand,
   * backed the env up and spliced in a value of the wrong app, recreated the backend on it (every Graph call now fails:
   * the monitor's both-dead window opens), and an interrupted upload was left in the VPS's temporary folder. The
   * previous secret, the one the newest backup holds, is still valid in the tenant: restoring it is the right move.
   */
  const situations: Record<string, { before(): Promise<unknown>; after(before: unknown): Promise<void> | void }> = {
    'restore-previous': {
      async before() {
        const previous = envFileSecret(sandbox.facts);
        const envBefore = readFileSync(envFileOf(sandbox.facts), 'utf8');
        await onVps([
          'umask 077 && cd ~/platform',
          'cp .env.production .env.production.bak.$(date +%s)',
          "sed -i 's/^MICROSOFT_GRAPH_CLIENT_SECRET=.*/MICROSOFT_GRAPH_CLIENT_SECRET=Zz8Q~value-of-another-app-0000000000000000/' .env.production",
          `echo partial > "$(mktemp ${sandbox.facts['vps-tmp']}/graph_secret.XXXXXXXXXX)"`,
          'docker compose -f docker-compose.production.yml --env-file .env.production up -d --force-recreate backend-b2b backend-gateway celery-worker celery-beat',
        ].join(' && '));
        const tenant = sandbox.context.tenant!;
        assert.equal(tenant.isSecretValid(tenant.appId, envFileSecret(sandbox.facts)), false);
        assert.equal(tenant.isSecretValid(tenant.appId, previous), true);
        return { previous, envBefore };
      },
      after(before) {
        const { previous, envBefore } = before as { previous: string; envBefore: string };
        const tenant = sandbox.context.tenant!;
        const platform = platformOf(sandbox.context)!;
        // The env holds the previous secret again, valid in the tenant, every other line as it was.
        assert.equal(sha256(envFileSecret(sandbox.facts)), sha256(previous));
        assert.equal(tenant.isSecretValid(tenant.appId, envFileSecret(sandbox.facts)), true);
        assert.equal(sha256(readFileSync(envFileOf(sandbox.facts), 'utf8')), sha256(envBefore));
        // No upload left behind.
        assert.deepEqual(readdirSync(sandbox.facts['vps-tmp']!).filter((name) => name.includes('secret')), []);
        // The backend runs on a valid secret again: the window the bad edit opened is closed, no secret leaked.
        platform.monitor.check();
        platform.monitor.scan();
        const report = platform.monitor.report();
        assert.deepEqual(report.bothDead.filter((window) => window.end === null), []);
        assert.deepEqual(report.leaks, []);
      },
    },
  };

  // Commands that need a situation of their own run last: what they change is not what the others are documented for.
  const selections = documentedSelections(readFileSync(runbookPath, 'utf8')).sort((a, b) => Number(a.id in situations) - Number(b.id in situations));

  it('finds the commands in the document', () => {
    assert.deepEqual(
      selections.map(({ flag, id }) => `--${flag} ${id}`).sort(),
      ['--from token-roundtrip', '--only diagnose-invalid-client', '--only diagnose-outbound', '--only rearm-subscription', '--only restore-previous'],
    );
  });

  it('rotates first, as the reader did before following the advice', async () => {
    const { result, failures } = await run();
    assert.equal(result.exitCode, 0, failures.join('\n'));
  });

  for (const { flag, id } of selections) {
    it(`npx runbook run --target sandbox --${flag} ${id}`, async () => {
      const before = await situations[id]?.before();
      const { result, events, failures } = await run({ [flag]: id });
      assert.equal(result.exitCode, 0, failures.join('\n'));
      const ran = events.of('step-end').filter((event) => event.status === 'passed').map((event) => event.stepId);
      assert.ok(ran.includes(id), `${id} did not run: ${ran.join(', ')}`);
      if (flag === 'only') assert.deepEqual(ran, [id]);
      await situations[id]?.after(before);
    });
  }
});
