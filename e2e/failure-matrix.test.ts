/**
 * The crash and fault matrix of issue 11 on the real rotation: runbook.md against the sandbox, through the real CLI
 * (interruptions) or the runner itself (faults, armed the moment a step begins). Every case ends (after `runbook
 * resume` where it is an interruption or a forward fix) with the env file's secret minting a token, at least one
 * secret in the tenant, no temp secret on the VPS, and no new both-dead window or leak on the invariant monitor
 * (e2e/helpers.ts `assertSafe`); interrupted cases are also checked at every interruption, before the resume.
 *
 * One sandbox for the whole file (`runbook sandbox up`, as an operator starts one to practise interruptions), never
 * reset: each case starts from the state the previous one left, which is itself what the matrix checks (a rotated
 * tenant, a rolled-back one, or two secrets after a forward fix). Faults are cleared and the monitor's counts taken
 * between cases.
 *
 * How the points are combined, so that the file costs a few rotations rather than a hundred:
 * - kill -9 at every step boundary is one chain: the run is killed as step 1 begins, `resume` is killed as step 2
 *   begins, and so on; each resume starts from a journal cut at a different boundary. The last resume finishes.
 * - kill -9 and Ctrl-C during each rollback: a run fails at the token round trip (Step 5, after all four steps with
 *   a rollback took effect), and each rollback is interrupted as it begins, one resume after the other.
 * - Ctrl-C at a step boundary ends the run (it rolls back), so each boundary is a run of its own.
 * - Faults: for each kind and status, runs arm one fault (count 1) as a step begins, whenever none is still armed;
 *   a fault fires at the next request of its kind, whoever makes it (the backend too). A step counts as covered when
 *   a fault was armed while it ran. A run the fault fails ends (a forward fix is resumed with the faults cleared), and
 *   the next run arms from the first step not yet covered; a run that absorbs its faults (retries) covers every step.
 *
 * Cost on 2 cores: 10.4 min with the load falling from 9 to 1 (kill -9 chain 90 s, each rollback chain about 40 s,
 * the 13 Ctrl-C runs 170 s, token faults 40-50 s a status for five runs each, Graph 401 94 s, Graph 429 and 503 14 s
 * each as one absorbed run, the other cases 4-11 s); 22 min at load 14. Each case logs its time at the end of the run.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Reporter, RunEvent } from '../runner/report/events.ts';
import { runFile } from '../runner/run.ts';
import { repoRoot, runCli, testStateHome, type CliResult } from '../runner/test/helpers.ts';
import { controlRequest } from '../sandbox/client.ts';
import { readState } from '../sandbox/state.ts';
import { assertSafe, envFileSecret, sha256, type SafeState } from './helpers.ts';

/** runbook.md's steps in order (the test fails at once if the document's plan differs: see the first case). */
const STEPS = [
  'read-ids',
  'verified-sender',
  'assess',
  'list-secrets',
  'create-secret',
  'capture-secret',
  'update-env',
  'recreate',
  'token-roundtrip',
  'rearm-subscription',
  'send-test-email',
  'watch-ingest',
  'delete-old-secret',
] as const;
/** The steps with a rollback, newest first: the order a failure at Step 5 undoes them in. */
const ROLLBACKS = ['recreate', 'update-env', 'capture-secret', 'create-secret'] as const;

let workspace = '';
let facts: Record<string, string> = {};
let safe: SafeState | undefined;
const elapsed: string[] = [];

/**
 * One CLI run with the json reporter; `stop` is asked of every event and names the signal to send, once. A run that
 * is already rolling back after a failure takes the operator's first Ctrl-C as "roll back" (it already does) and the
 * second as "stop the rollbacks" (README): `twice` sends the second once the runner has taken the first.
 */
async function cli(args: string[], stop?: (event: RunEvent) => NodeJS.Signals | undefined, twice = false): Promise<CliResult & { events: RunEvent[]; sent?: NodeJS.Signals }> {
  const events: RunEvent[] = [];
  let seen = 0;
  let sent: NodeJS.Signals | undefined;
  let again = twice;
  const result = await runCli([...args, '--reporter', 'json'], {
    cwd: workspace,
    onStderr: (text, child) => {
      if (again && sent && text.includes('interrupting; rolling back')) {
        again = false;
        child.kill(sent);
      }
    },
    onStdout: (text, child) => {
      const lines = text.split('\n');
      for (; seen < lines.length - 1; seen++) {
        const event = JSON.parse(lines[seen]!) as RunEvent;
        events.push(event);
        const signal = sent ? undefined : stop?.(event);
        if (signal) {
          sent = signal;
          child.kill(signal);
        }
      }
    },
  });
  return { ...result, events, ...(sent ? { sent } : {}) };
}

/** The tenant's secrets at the last check, in a stable order. */
const keyIds = () => safe!.credentials.map((credential) => credential.keyId).sort();
const failedSteps = (events: RunEvent[]) => events.flatMap((event) => (event.kind === 'step-end' && event.status === 'failed' ? [event.stepId] : []));
const summary = (result: CliResult) => `${result.stdout.slice(-3000)}\n${result.stderr.slice(-2000)}`;

async function check(label: string, options: { killed?: boolean } = {}): Promise<void> {
  safe = await assertSafe(facts, safe, label, options);
}

/** A finished rotation: the secret this journal's run made is the only one, and both copies hold it. */
async function assertRotated(label: string): Promise<void> {
  await check(label);
  assert.equal(safe!.credentials.length, 1, `${label}: exactly one secret is left`);
  const local = readFileSync(path.join(facts['sandbox-dir']!, 'fm-dogfood', 'm365_graph_secret.txt'), 'utf8');
  assert.equal(sha256(envFileSecret(facts)), sha256(local), `${label}: the env file holds the captured secret`);
}

/** Arms a fault now, before the runner goes on (a step-begin hook cannot wait for a promise). */
function armNow(spec: { kind: string; status?: number; count?: number; retryAfter?: number; params?: Record<string, number | string> }): void {
  execFileSync('curl', ['-fsS', '--cacert', facts['ca-file']!, '-H', `@${facts['credential-file']!}`, '-H', 'content-type: application/json', '--data-binary', JSON.stringify({ count: 1, retryAfter: 1, ...spec }), `${facts.control}/faults`], { stdio: 'ignore' });
}

function armedNow(): unknown[] {
  return JSON.parse(execFileSync('curl', ['-fsS', '--cacert', facts['ca-file']!, '-H', `@${facts['credential-file']!}`, `${facts.control}/faults`], { encoding: 'utf8' })) as unknown[];
}

/** One run of runbook.md by the runner in this process, `arm` acting on its events as they happen. */
async function runHere(arm: Reporter): Promise<{ exitCode: number; events: RunEvent[] }> {
  const events: RunEvent[] = [];
  const result = await runFile({
    file: path.join(workspace, 'runbook.md'),
    target: 'sandbox',
    workspace,
    stateDir: path.join(testStateHome(), 'runbook'),
    reporters: [{ name: 'events', onEvent: (event) => void events.push(event) }, arm],
    sandbox: async () => ({ facts: { ...facts }, release: async () => {} }),
  });
  await controlRequest(facts, 'DELETE', '/faults');
  return { exitCode: result.exitCode, events };
}

describe('the crash and fault matrix on runbook.md', { concurrency: false }, () => {
  before(async () => {
    workspace = mkdtempSync(path.join(os.tmpdir(), 'failure-matrix-'));
    copyFileSync(path.join(repoRoot, 'runbook.md'), path.join(workspace, 'runbook.md'));
    const up = await runCli(['sandbox', 'up'], { cwd: workspace });
    assert.equal(up.code, 0, up.stderr);
    facts = readState(path.join(workspace, '.runbook', 'sandbox'))!.facts;
    safe = await assertSafe(facts, undefined, 'the sandbox as started');
  });
  after(async () => {
    await runCli(['sandbox', 'down'], { cwd: workspace });
    // The figures a reader of the CI log wants: how long each part of the matrix took.
    console.log(elapsed.join('\n'));
  });

  const timed = (name: string, body: () => Promise<void>) =>
    it(name, async () => {
      const start = performance.now();
      try {
        await body();
      } finally {
        elapsed.push(`${name}: ${((performance.now() - start) / 1000).toFixed(1)} s`);
      }
    });

  timed('kill -9 as each step begins, one resume after the other, ends as an uninterrupted rotation', async () => {
    let args = ['run', 'runbook.md'];
    for (const stepId of STEPS) {
      const killed = await cli(args, (event) => (event.kind === 'step-begin' && event.stepId === stepId ? 'SIGKILL' : undefined));
      assert.equal(killed.sent, 'SIGKILL', `${stepId} never began:\n${summary(killed)}`);
      await check(`killed as ${stepId} began`, { killed: true });
      args = ['resume'];
    }
    const last = await cli(args);
    assert.equal(last.code, 0, summary(last));
    await assertRotated('after the last resume');
  });

  for (const signal of ['SIGKILL', 'SIGINT'] as const) {
    timed(`${signal} as each rollback begins (after a failed token round trip), one resume after the other`, async () => {
      // What the tenant holds before the run is what it must hold once the run is rolled back: read here, not taken
      // from the previous case, so a case that failed midway does not fail this one too.
      await check(`before the ${signal} rollback chain`);
      const found = keyIds();
      // The token round trip fails on a 401 armed once Step 4 ended: every step with a rollback has taken effect.
      const first = await cli(['run', 'runbook.md'], (event) => {
        if (event.kind === 'step-end' && event.stepId === 'recreate') armNow({ kind: 'token', status: 401 });
        return event.kind === 'rollback-begin' && event.stepId === ROLLBACKS[0] ? signal : undefined;
      }, signal === 'SIGINT');
      assert.deepEqual(failedSteps(first.events), ['token-roundtrip'], summary(first));
      assert.equal(first.sent, signal, summary(first));
      await check(`${signal} as the rollback of ${ROLLBACKS[0]} began`);
      for (const stepId of ROLLBACKS.slice(1)) {
        const resumed = await cli(['resume'], (event) => (event.kind === 'rollback-begin' && event.stepId === stepId ? signal : undefined), signal === 'SIGINT');
        assert.equal(resumed.sent, signal, `the rollback of ${stepId} never began:\n${summary(resumed)}`);
        // Resume finishes the rollbacks and never goes forward.
        assert.deepEqual(resumed.events.filter((event) => event.kind === 'step-begin'), [], summary(resumed));
        await check(`${signal} as the rollback of ${stepId} began`);
      }
      // The run failed (Step 5): once its rollbacks are all done it ends as failed, however often they were cut.
      const last = await cli(['resume']);
      assert.equal(last.code, 1, summary(last));
      await check(`${signal} during the rollbacks, resumed`);
      // Rolled back: the tenant holds the secrets it held before the run, the one the env file holds among them.
      assert.deepEqual(keyIds(), found);
    });
  }

  for (const stepId of STEPS) {
    timed(`Ctrl-C as ${stepId} begins stops it and rolls back what took effect (resume finishes a forward fix)`, async () => {
      const run = await cli(['run', 'runbook.md'], (event) => (event.kind === 'step-begin' && event.stepId === stepId ? 'SIGINT' : undefined));
      assert.equal(run.sent, 'SIGINT', summary(run));
      assert.equal(run.code, 130, summary(run));
      await check(`Ctrl-C as ${stepId} began`);
      if (run.events.some((event) => event.kind === 'forward-fix')) {
        const resumed = await cli(['resume']);
        assert.equal(resumed.code, 0, summary(resumed));
        await assertRotated(`Ctrl-C as ${stepId} began, resumed`);
      }
    });
  }

  const faults: Array<{ kind: 'token' | 'graph'; status: number }> = [
    { kind: 'token', status: 401 },
    { kind: 'token', status: 429 },
    { kind: 'token', status: 503 },
    { kind: 'graph', status: 401 },
    { kind: 'graph', status: 429 },
    { kind: 'graph', status: 503 },
  ];
  for (const fault of faults) {
    timed(`${fault.kind} ${fault.status} at every step, Step 7's verify included`, async () => {
      const covered = new Set<string>();
      const runs: string[] = [];
      while (covered.size < STEPS.length) {
        const from = STEPS.find((stepId) => !covered.has(stepId))!;
        let arming = false;
        const arm: Reporter = {
          name: 'faults',
          'on:step-begin'(event) {
            arming ||= event.stepId === from;
            if (!arming) return;
            if (armedNow().length === 0) armNow(fault);
            covered.add(event.stepId);
          },
        };
        const result = await runHere(arm);
        const events = result.events;
        runs.push(`${from}..${failedSteps(events).join(',') || 'end'} exit ${result.exitCode}`);
        assert.ok(arming, `the run never reached ${from}`);
        if (events.some((event) => event.kind === 'forward-fix')) {
          const resumed = await cli(['resume']);
          assert.equal(resumed.code, 0, summary(resumed));
          await assertRotated(`${fault.kind} ${fault.status} from ${from}, resumed`);
        } else {
          assert.ok([0, 1].includes(result.exitCode), `exit ${result.exitCode}`);
          await check(`${fault.kind} ${fault.status} from ${from}`);
          if (result.exitCode === 0) await assertRotated(`${fault.kind} ${fault.status} from ${from}`);
        }
      }
      elapsed.push(`  ${fault.kind} ${fault.status} runs: ${runs.join('; ')}`);
    });
  }

  timed("an SSH drop right after the env splice: the failed step's own rollback restores the env before the new secret goes", async () => {
    // The drop is aimed at the splice (the third SSH session of Step 3, after mktemp and the upload) once its output
    // passes 40 bytes: the env file has been replaced by then (the script prints only after os.replace).
    const run = await runHere({ name: 'drop', 'on:step-begin': (event) => (event.stepId === 'update-env' ? armNow({ kind: 'ssh-drop', params: { skip: 2, afterBytes: 40 } }) : undefined) });
    assert.equal(run.exitCode, 1);
    assert.deepEqual(failedSteps(run.events), ['update-env']);
    const rollbacks = run.events.flatMap((event) => (event.kind === 'rollback-end' ? [[event.stepId, event.status]] : []));
    assert.deepEqual(rollbacks, [['update-env', 'passed'], ['capture-secret', 'passed'], ['create-secret', 'passed']]);
    await check('an SSH drop after the splice');
    assert.equal(safe!.credentials.length, 1, 'the new secret was removed once the env was restored');
  });

  for (const [name, fault] of [
    ['truncated', { kind: 'clipboard-truncate', params: { length: 20 } }],
    ['newline-padded', { kind: 'clipboard-newline', params: { text: '\n' } }],
  ] as const) {
    timed(`a ${name} paste stops at Step 2 with nothing changed on the VPS`, async () => {
      const envBefore = sha256(envFileSecret(facts));
      const run = await runHere({ name: 'paste', 'on:step-begin': (event) => (event.stepId === 'capture-secret' ? armNow(fault) : undefined) });
      assert.equal(run.exitCode, 1);
      assert.deepEqual(failedSteps(run.events), ['capture-secret']);
      assert.equal(sha256(envFileSecret(facts)), envBefore);
      await check(`a ${name} paste`);
    });
  }

  timed('a stale resume is refused, and a second run on the target while one runs is refused by the lock (exit 75)', async () => {
    const old = await cli(['run', 'runbook.md'], (event) => (event.kind === 'step-begin' && event.stepId === 'update-env' ? 'SIGKILL' : undefined));
    assert.equal(old.sent, 'SIGKILL', summary(old));
    const oldRunId = old.events.find((event) => event.kind === 'run-begin')!;
    assert.ok(oldRunId.kind === 'run-begin');
    await check('killed as update-env began');

    // The newer run takes over the dead run's lock (this machine, its process gone), and holds it while it runs.
    let contender: Promise<CliResult> | undefined;
    const newer = await cli(['run', 'runbook.md'], (event) => {
      if (event.kind === 'step-begin' && event.stepId === 'recreate') contender = runCli(['run', 'runbook.md'], { cwd: workspace });
      return undefined;
    });
    assert.equal(newer.code, 0, summary(newer));
    const refused = await contender!;
    assert.equal(refused.code, 75, summary(refused));
    const newerRunId = newer.events.find((event) => event.kind === 'run-begin');
    assert.ok(newerRunId?.kind === 'run-begin');
    assert.match(refused.stderr, new RegExp(`locked by run ${newerRunId.runId}`));
    await assertRotated('after the newer run');

    const stale = await cli(['resume', oldRunId.runId]);
    assert.equal(stale.code, 2, summary(stale));
    assert.match(stale.stderr, /stale-run/);
    await assertRotated('after the stale resume was refused');
  });
});
