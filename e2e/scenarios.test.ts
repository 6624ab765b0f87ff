/**
 * The rotation scenarios of runbook.md, each running the document itself (not a copy of its code) against a fresh
 * sandbox tenant, then checking the state the system is left in. Run with node's test runner (the Playwright suite
 * in this folder is the `*.spec.ts` files).
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { collector } from '../runner/test/helpers.ts';
import { recordPythonCreations, type Creation } from './creation-record.ts';
import { envFileSecret, sha256 } from './helpers.ts';
import type { Reporter } from '../runner/report/events.ts';
import { runFile } from '../runner/run.ts';
import { startSandbox, type SandboxHandle } from '../sandbox/index.ts';
import { controlRequest } from '../sandbox/client.ts';
import { platformOf } from '../sandbox/platform/index.ts';
import type { FaultSpec } from '../sandbox/types.ts';

const runbookPath = path.resolve(import.meta.dirname, '..', 'runbook.md');

interface Scenario {
  identity?: { existingSecretExpiresInDays?: number };
  /** Faults armed when the named step begins (the runner's events drive them, in process). */
  faultsAt?: Record<string, FaultSpec[]>;
  before?: (sandbox: SandboxHandle) => Promise<void>;
}

/** One rotation on a sandbox of its own, stopped and removed when the test ends (a full sandbox is a dozen processes). */
async function rotate(t: TestContext, scenario: Scenario = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rotation-'));
  const sandbox = await startSandbox({ dir: path.join(dir, 'sandbox'), ...(scenario.identity ? { identity: scenario.identity } : {}) });
  t.after(async () => {
    await sandbox.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });
  const platform = platformOf(sandbox.context)!;
  const tenant = sandbox.context.tenant!;
  const oldSecret = tenant.credentials()[0]!;
  const envSecret = () => envFileSecret(sandbox.facts);
  await scenario.before?.(sandbox);
  const events = collector();
  const faults: Reporter = {
    name: 'faults',
    'on:step-begin'(event) {
      for (const spec of scenario.faultsAt?.[event.stepId] ?? []) sandbox.context.faults.inject(spec);
    },
  };
  const result = await runFile({
    file: runbookPath,
    target: 'sandbox',
    workspace: path.join(dir, 'workspace'),
    reporters: [events, faults],
    sandbox: async () => ({ facts: { ...sandbox.facts }, release: async () => {} }),
  });
  const outputOf = (stepId: string) => events.of('output').filter((event) => event.stepId === stepId).map((event) => event.text).join('\n');
  const statusOf = (stepId: string) => events.of('step-end').find((event) => event.stepId === stepId)?.status;
  return { result, events, sandbox, platform, tenant, oldSecret, envSecret, outputOf, statusOf, dir };
}

type Platform = NonNullable<ReturnType<typeof platformOf>>;

const sendTestMail = async (platform: Platform, to: string) =>
  (await (await platform.backendFetch('backend-b2b', '/admin/send-test-mail', { method: 'POST', body: { to } })).json()) as { path: string };

const approvals = async (platform: Platform) =>
  (await (await platform.backendFetch('backend-b2b', '/admin/approvals')).json()) as Array<{ status: string }>;

describe('runbook.md on the sandbox', { concurrency: false }, () => {
  it('rotates proactively (SEV3): one new secret, the env holds it, the old one is gone, nothing was ever both-dead', async (t) => {
    const run = await rotate(t);
    assert.equal(run.result.exitCode, 0, JSON.stringify(run.events.of('step-end').filter((event) => event.failure)));
    assert.match(run.outputOf('assess'), /severity: SEV3/);
    const credentials = run.tenant.credentials();
    assert.equal(credentials.length, 1);
    assert.notEqual(credentials[0]!.keyId, run.oldSecret.keyId);
    assert.equal(sha256(run.envSecret()), sha256(credentials[0]!.value));
    assert.equal(run.tenant.isSecretValid(run.tenant.appId, run.envSecret()), true);
    assert.equal(run.platform.sshHandshakes(), 1, 'every ssh and scp of the rotation shares one connection to the VPS');
    const report = run.platform.monitor.report();
    assert.deepEqual(report.bothDead, []);
    assert.deepEqual(report.leaks, []);
  });

  it('restores mail in both directions when the secret had already expired (SEV2)', async (t) => {
    const run = await rotate(t, {
      identity: { existingSecretExpiresInDays: -1 },
      before: async (sandbox) => {
        const platform = platformOf(sandbox.context)!;
        // Before: outbound mail is on the fallback path and inbound ingest is stopped.
        assert.equal((await sendTestMail(platform, 'someone@example.com')).path, 'file');
        const pending = (await approvals(platform)).length;
        const delivered = await controlRequest(sandbox.facts, 'POST', '/mail/inbound', { from: sandbox.facts['verified-sender'], to: sandbox.facts['mailbox'], subject: 'before the rotation' });
        assert.equal(delivered.status, 201);
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.equal((await approvals(platform)).length, pending);
      },
    });
    assert.equal(run.result.exitCode, 0, JSON.stringify(run.events.of('step-end').filter((event) => event.failure)));
    assert.match(run.outputOf('assess'), /severity: SEV2/);
    assert.match(run.outputOf('rearm-subscription'), /subscription lapsed: re-arming/);
    // After: Graph sends again, and the runbook's own Step 6 saw an inbound email become a pending approval.
    assert.equal((await sendTestMail(run.platform, 'someone@example.com')).path, 'graph');
    assert.ok((await approvals(run.platform)).some((approval) => approval.status === 'pending'));
  });

  for (const [name, fault] of [
    ['truncated', { kind: 'clipboard-truncate', params: { length: 20 } }],
    ['newline-padded', { kind: 'clipboard-newline', params: { text: '\n' } }],
  ] as const) {
    it(`stops a ${name} paste at Step 2, before anything reaches the VPS: the new secret is removed, the old one still works`, async (t) => {
      const run = await rotate(t, { faultsAt: { 'capture-secret': [fault] } });
      assert.equal(run.result.exitCode, 1);
      assert.equal(run.statusOf('capture-secret'), 'failed');
      assert.match(JSON.stringify(run.events.of('step-end').find((event) => event.stepId === 'capture-secret')?.failure), /does not mint a token/);
      for (const later of ['update-env', 'recreate', 'token-roundtrip', 'delete-old-secret']) assert.equal(run.statusOf(later), undefined, later);
      assert.deepEqual(
        run.events.of('rollback-end').filter((event) => event.stepId === 'create-secret').map((event) => event.status),
        ['passed'],
      );
      assert.equal(sha256(run.envSecret()), sha256(run.oldSecret.value));
      assert.deepEqual(run.tenant.credentials().map((credential) => credential.keyId), [run.oldSecret.keyId]);
      assert.equal(run.tenant.isSecretValid(run.tenant.appId, run.oldSecret.value), true);
      const report = run.platform.monitor.report();
      assert.deepEqual(report.bothDead, []);
      assert.deepEqual(report.leaks, []);
    });
  }

  it('re-arms a subscription that lapsed during the dead window (Step 6)', async (t) => {
    const run = await rotate(t, {
      before: async (sandbox) => {
        const response = await controlRequest(sandbox.facts, 'POST', '/subscriptions/lapse', {});
        assert.equal(response.status, 200);
      },
    });
    assert.equal(run.result.exitCode, 0, JSON.stringify(run.events.of('step-end').filter((event) => event.failure)));
    assert.match(run.outputOf('rearm-subscription'), /subscription lapsed: re-arming/);
    assert.match(run.outputOf('watch-ingest'), /approval created .* status=pending/);
  });

  it('gives a neighbour on the VPS nothing: the upload goes to a name mktemp made (not a planted graph_secret.new), and every file holding the secret is 600 from its first byte', async (t) => {
    let planted = '';
    let creations: () => Creation[] = () => [];
    const run = await rotate(t, {
      before: async (sandbox) => {
        // Another user of the VPS creates the old fixed name first, writable and readable by all.
        planted = path.join(sandbox.facts['vps-tmp']!, 'graph_secret.new');
        writeFileSync(planted, '');
        chmodSync(planted, 0o666);
        creations = recordPythonCreations(sandbox.facts['vps-home']!);
      },
    });
    assert.equal(run.result.exitCode, 0, JSON.stringify(run.events.of('step-end').filter((event) => event.failure)));
    assert.equal(statSync(planted).size, 0, 'the planted file received the secret');
    // The upload's name is the one mktemp made, carried in the run's state from update-env; it is gone now.
    const tmp = run.sandbox.facts['vps-tmp']!;
    const upload = String(run.events.of('state').find((event) => event.stepId === 'update-env')?.state.upload);
    assert.match(upload, /\/graph_secret\.[A-Za-z0-9]{10}$/);
    assert.equal(path.dirname(upload), tmp);
    assert.deepEqual(readdirSync(tmp).filter((name) => name.includes('secret')), ['graph_secret.new']);
    // The env edit's files, each with its mode at the moment it was created.
    const platformDir = run.sandbox.facts['platform-dir']!;
    const made = creations().filter((creation) => path.dirname(creation.path) === platformDir);
    assert.deepEqual([...new Set(made.map((creation) => path.basename(creation.path).replace(/\d+$/, 'EPOCH')))].sort(), ['.env.production.bak.EPOCH', '.env.production.new']);
    for (const creation of made) assert.equal(creation.mode.toString(8), '600', `${path.basename(creation.path)} was created ${creation.mode.toString(8)}`);
    assert.equal(statSync(path.join(platformDir, '.env.production')).mode & 0o777, 0o600);
    assert.deepEqual(run.platform.monitor.report().leaks, []);
  });

  it('fails safe when SSH drops during the upload: nothing changed on the VPS and no temp secret left anywhere', async (t) => {
    const run = await rotate(t, { faultsAt: { 'update-env': [{ kind: 'ssh-drop', count: 1, params: { afterBytes: 8 } }] } });
    assert.equal(run.result.exitCode, 1);
    assert.equal(run.statusOf('update-env'), 'failed');
    assert.equal(sha256(run.envSecret()), sha256(run.oldSecret.value));
    assert.deepEqual(readdirSync(run.sandbox.facts['vps-tmp']!).filter((name) => name.includes('secret')), []);
    // No stray copy of the new value was left next to the dogfood file.
    const dogfood = path.join(run.sandbox.facts['sandbox-dir']!, 'fm-dogfood');
    assert.deepEqual(existsSync(dogfood) ? readdirSync(dogfood).filter((name) => /tmp|previous/.test(name)) : [], []);
    // The failed step's own rollback runs too, and is safe after none of its step (the env never held the new value,
    // so nothing is restored); the earlier rollbacks then remove the new secret: the tenant is as it was.
    assert.deepEqual(run.events.of('rollback-end').map((event) => [event.stepId, event.status]), [
      ['update-env', 'passed'],
      ['capture-secret', 'passed'],
      ['create-secret', 'passed'],
    ]);
    assert.deepEqual(run.tenant.credentials().map((credential) => credential.keyId), [run.oldSecret.keyId]);
    assert.equal(run.tenant.isSecretValid(run.tenant.appId, run.oldSecret.value), true);
    assert.deepEqual(run.platform.monitor.report().bothDead, []);
  });
});
