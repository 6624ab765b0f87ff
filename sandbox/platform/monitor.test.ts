import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { MonitorReport } from './monitor.ts';
import { liveSecret, recreateBackends, setEnvSecret, startTestSandbox, type TestSandbox } from './testing.ts';

describe('the invariant monitor', () => {
  let t: TestSandbox;
  beforeEach(async () => { t = await startTestSandbox(); });
  afterEach(async () => { await t?.stop(); });

  const report = async (): Promise<MonitorReport> =>
    (await (await t.fetch(`${t.facts.control}/monitor`)).json()) as MonitorReport;

  it('stays silent on a clean rotation done by hand through the APIs', async () => {
    const old = t.sandbox.context.tenant!.credentials()[0]!;
    const created = await t.graph<{ secretText: string; keyId: string }>(old.value, 'POST',
      `applications/${t.facts['app-object-id']}/addPassword`, { passwordCredential: { displayName: 'graph-secret-next' } });
    setEnvSecret(t, created.secretText);
    await recreateBackends(t);
    await t.graph(created.secretText, 'POST', `applications/${t.facts['app-object-id']}/removePassword`, { keyId: old.keyId });
    t.sandbox.context.clock.advance(3_600_000);
    const r = await report();
    assert.deepEqual({ ok: r.ok, bothDead: r.bothDead, leaks: r.leaks }, { ok: true, bothDead: [], leaks: [] });
    assert.ok(r.checks > 0);
  });

  it('flags the window in which the running backend held no valid secret', async () => {
    const good = liveSecret(t);
    setEnvSecret(t, `${good.slice(0, 12)}`); // a truncated paste
    await recreateBackends(t);
    const during = await report();
    assert.equal(during.bothDead.length, 1);
    assert.equal(during.bothDead[0]!.end, null);
    assert.deepEqual(during.bothDead[0]!.services, ['backend-b2b', 'backend-gateway']);
    setEnvSecret(t, good);
    await recreateBackends(t);
    const afterFix = t.platform.monitor.report();
    assert.equal(afterFix.ok, false);
    assert.notEqual(afterFix.bothDead[0]!.end, null);
    assert.ok(afterFix.bothDead[0]!.durationMs > 0);
  });

  it('flags a deleted secret still loaded in the backend as soon as it is deleted', async () => {
    const old = t.sandbox.context.tenant!.credentials()[0]!;
    const created = await t.graph<{ secretText: string }>(old.value, 'POST',
      `applications/${t.facts['app-object-id']}/addPassword`, { passwordCredential: { displayName: 'too-early' } });
    // Deleting the old secret before the env holds the new one: the runbook's "never" case.
    await t.graph(created.secretText, 'POST', `applications/${t.facts['app-object-id']}/removePassword`, { keyId: old.keyId });
    const r = t.platform.monitor.report();
    assert.equal(r.bothDead.length, 1);
  });

  it('flags a secret value that shows up in a VPS file or the sandbox log, without repeating it', async () => {
    const secret = liveSecret(t);
    writeFileSync(join(t.facts['vps-home']!, 'transcript.txt'), `pasted by mistake:\n${secret}\n`);
    const r = await report();
    assert.equal(r.ok, false);
    assert.deepEqual(r.leaks.map((l) => [l.where.replace(/^.*vps\/home\//, ''), l.line, l.secretHint]), [['transcript.txt', 2, secret.slice(0, 3)]]);
    assert.equal(JSON.stringify(r).includes(secret), false);
  });

  it('searches a log only where it grew, and still finds a value written across two scans, at its line', async () => {
    const secret = liveSecret(t);
    const log = t.sandbox.context.log.path;
    assert.equal((await report()).leaks.length, 0);
    // Half the value, a scan (which searches the log up to here), then the rest: only a search that reaches back
    // across the end of the last one finds it.
    appendFileSync(log, `half a paste: ${secret.slice(0, 20)}`);
    assert.equal((await report()).leaks.length, 0);
    appendFileSync(log, `${secret.slice(20)}\n`);
    const r = await report();
    const line = readFileSync(log, 'utf8').split('\n').findIndex((l) => l.includes(secret)) + 1;
    assert.deepEqual(r.leaks.map((l) => [l.where, l.line, l.secretHint]), [['logs/sandbox.log', line, secret.slice(0, 3)]]);
  });
});
