import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ApprovalRow } from './db.ts';
import { liveSecret, recreateBackends, setEnvSecret, startTestSandbox, waitFor, type TestSandbox } from '../testing.ts';

describe('the backend stand-in', () => {
  let t: TestSandbox;
  before(async () => { t = await startTestSandbox(); });
  after(async () => { await t?.stop(); });

  const sendTestMail = async () => (await (await t.platform.backendFetch('backend-b2b', '/admin/send-test-mail', {
    body: { to: 'someone@example.com', subject: 'hello' },
  })).json()) as { path: string; trail: string };
  const approvals = async () => (await (await t.platform.backendFetch('backend-b2b', '/admin/approvals')).json()) as ApprovalRow[];
  const inbound = (subject: string) => t.fetch(`${t.facts.control}/mail/inbound`, {
    body: { from: t.facts['verified-sender'], to: t.facts['ingest-address'], subject, body: 'please approve' },
  });

  it('answers its admin API only with the sandbox credential: 401 without it or with a wrong one; health stays open', async () => {
    const base = t.platform.backendUrl('backend-b2b');
    const routes = [['GET', '/admin/approvals'], ['GET', '/admin/subscriptions'], ['POST', '/admin/send-test-mail'], ['POST', '/admin/ensure-inbound-subscription'], ['POST', '/admin/renew-subscriptions'], ['POST', '/admin/lapse-subscriptions']] as const;
    for (const [method, route] of routes) {
      for (const headers of [{}, { authorization: 'Bearer not-the-credential' }] as Record<string, string>[]) {
        const res = await t.fetch(`${base}${route}`, { method, headers, ...(method === 'POST' ? { body: { to: 'someone@example.com' } } : {}) });
        assert.equal(res.status, 401, `${method} ${route} ${JSON.stringify(headers)}`);
        assert.doesNotMatch(await res.text(), /apr_|subscription/);
      }
    }
    assert.equal((await t.fetch(`${base}/health`)).status, 200);
    assert.equal((await t.platform.backendFetch('backend-b2b', '/admin/approvals')).status, 200);
  });

  it('sends through Graph with a live secret', async () => {
    assert.deepEqual(await sendTestMail(), { path: 'graph', trail: 'graph ok' });
  });

  it('turns inbound mail from a verified sender into a pending approval', async () => {
    const res = await inbound('Field trip form');
    assert.equal(res.status, 201);
    const row = await waitFor('approval', async () => (await approvals()).find((a) => a.subject === 'Field trip form'));
    assert.equal(row.status, 'pending');
    assert.equal(row.org_id, t.facts['org-id']);
    const logs = t.platform.runtime.logs('curateme-backend-b2b').map((l) => l.line).join('\n');
    assert.match(logs, /inbound notification subscription=/);
    assert.match(logs, /approval created id=apr_\w+ org=org_sandbox_household status=pending/);
  });

  it('ignores mail from a sender that is not verified', async () => {
    await t.fetch(`${t.facts.control}/mail/inbound`, { body: { from: 'stranger@example.net', to: t.facts.mailbox, subject: 'spam' } });
    await waitFor('dropped', () => t.platform.runtime.logs('curateme-backend-b2b').some((l) => /sender not verified from=stranger/.test(l.line)));
    assert.equal((await approvals()).some((a) => a.subject === 'spam'), false);
  });

  it('falls back down the mail chain with a dead secret and recovers after a recreate with a good one', async () => {
    const good = liveSecret(t);
    setEnvSecret(t, `${good.slice(0, 10)}-wrong-value`);
    await recreateBackends(t);
    const dead = await sendTestMail();
    assert.equal(dead.path, 'file');
    assert.match(dead.trail, /^graph failed \(401 invalid_client AADSTS7000215\) -> resend not configured -> ses not configured -> smtp not configured -> file \/\S+\.eml$/);
    setEnvSecret(t, good);
    await recreateBackends(t);
    assert.equal((await sendTestMail()).path, 'graph');
  });

  it('a lapsed subscription stops ingest until ensure_inbound_subscription re-arms it', async () => {
    await (await t.fetch(`${t.facts.control}/subscriptions/lapse`, { body: {} })).body?.cancel();
    await waitFor('lapse', async () => {
      const subs = (await (await t.fetch(`${t.facts.control}/subscriptions`)).json()) as { active: unknown[] };
      return subs.active.length === 0 || undefined;
    });
    await inbound('while lapsed');
    await new Promise((r) => setTimeout(r, 700));
    assert.equal((await approvals()).some((a) => a.subject === 'while lapsed'), false);
    const wired = (await (await t.platform.wireOrg()).json()) as { action: string };
    assert.equal(wired.action, 'created');
    await inbound('after re-arm');
    await waitFor('approval after re-arm', async () => (await approvals()).find((a) => a.subject === 'after re-arm'));
  });

  it('renews the subscription every 12 hours of sandbox time', async () => {
    t.sandbox.context.clock.advance(12 * 3_600_000 + 1000);
    await waitFor('renewal', () => t.platform.runtime.logs('curateme-backend-b2b').some((l) => /graph_subscription renewal done renewed=1\/1/.test(l.line)));
  });

  it('never logs a secret value', async () => {
    const secrets = t.sandbox.context.tenant!.knownSecretValues();
    for (const name of ['curateme-backend-b2b', 'curateme-backend-gateway']) {
      const text = t.platform.runtime.logs(name).map((l) => l.line).join('\n');
      for (const s of secrets) assert.equal(text.includes(s), false);
    }
  });
});
