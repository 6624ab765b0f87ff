import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GraphError, type Client } from '@microsoft/microsoft-graph-client';
import { createFetch } from '../../common/net/tls.ts';
import { controlRequest } from '../client.ts';
import { currentSecret, GRAPH_SCOPES, msalClient, sandboxGraphClient, startIdentitySandbox, startNotificationListener, type NotificationListener } from '../test/helpers.ts';

type Sandbox = Awaited<ReturnType<typeof startIdentitySandbox>>;

async function graphError(promise: Promise<unknown>): Promise<GraphError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof GraphError, `expected GraphError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected the Graph call to fail');
}

const inMinutes = (sandbox: Sandbox, minutes: number) => new Date(sandbox.context.clock.now() + minutes * 60_000).toISOString();

describe('sandbox Graph with the real graph client and msal-node', () => {
  let sandbox: Sandbox;
  let graph: Client;
  let listener: NotificationListener;
  before(async () => {
    sandbox = await startIdentitySandbox();
    graph = sandboxGraphClient(sandbox.facts, sandbox.caPem, currentSecret(sandbox));
    listener = await startNotificationListener();
  });
  after(async () => {
    await listener?.close();
    await sandbox?.stop();
  });

  test('addPassword returns the value once; it authenticates; removePassword revokes it', async () => {
    const appId = sandbox.facts['client-id'] as string;
    const created = await graph.api(`/applications(appId='${appId}')/addPassword`).post({
      passwordCredential: { displayName: 'graph-secret-2026-12', endDateTime: inMinutes(sandbox, 180 * 24 * 60) },
    });
    assert.equal(created.displayName, 'graph-secret-2026-12');
    assert.equal(created.hint, String(created.secretText).slice(0, 3));
    assert.match(created.keyId, /^[0-9a-f-]{36}$/);
    assert.ok(created.startDateTime && created.endDateTime);

    const app = await graph.api(`/applications/${sandbox.facts['app-object-id']}`).get();
    assert.equal(app.displayName, 'Curate-Me Agent Identity');
    assert.deepEqual(app.passwordCredentials.map((p: { displayName: string }) => p.displayName), ['graph-secret-2026-06', 'graph-secret-2026-12']);
    assert.ok(app.passwordCredentials.every((p: { secretText: unknown }) => p.secretText === null), 'values are never read back');
    const filtered = await graph.api('/applications').filter(`appId eq '${appId}'`).get();
    assert.equal(filtered.value.length, 1);

    const token = await msalClient(sandbox.facts, sandbox.caPem, created.secretText).acquireTokenByClientCredential({ scopes: GRAPH_SCOPES });
    assert.ok(token?.accessToken);

    await graph.api(`/applications/${sandbox.facts['app-object-id']}/removePassword`).post({ keyId: created.keyId });
    assert.equal(sandbox.context.tenant?.credentials().length, 1);
    await assert.rejects(
      msalClient(sandbox.facts, sandbox.caPem, created.secretText).acquireTokenByClientCredential({ scopes: GRAPH_SCOPES }),
      (error: { errorCode?: string; errorMessage?: string }) => error.errorCode === 'invalid_client' && /AADSTS7000215/.test(error.errorMessage ?? ''),
    );
    const missing = await graphError(graph.api(`/applications/${sandbox.facts['app-object-id']}/removePassword`).post({ keyId: created.keyId }));
    assert.equal(missing.statusCode, 400);
  });

  test('users are found by id and by UPN; unknown ones are Graph 404s', async () => {
    const byUpn = await graph.api('/users/family@curate-me.ai').get();
    assert.equal(byUpn.id, sandbox.facts['mailbox-user-id']);
    const byId = await graph.api(`/users/${byUpn.id}`).get();
    assert.equal(byId.userPrincipalName, 'family@curate-me.ai');
    const error = await graphError(graph.api('/users/nobody@curate-me.ai').get());
    assert.equal(error.statusCode, 404);
    assert.equal(error.code, 'Request_ResourceNotFound');
  });

  test('calls without a valid bearer get Graph error bodies', async () => {
    const fetchWithTrust = createFetch(sandbox.caPem);
    for (const authorization of [undefined, 'Bearer not.a.token']) {
      const response = await fetchWithTrust(`${sandbox.facts.graph}/v1.0/users`, { headers: authorization ? { authorization, 'client-request-id': 'c1' } : { 'client-request-id': 'c1' } });
      assert.equal(response.status, 401);
      const body = (await response.json()) as { error: { code: string; message: string; innerError: Record<string, string> } };
      assert.equal(body.error.code, 'InvalidAuthenticationToken');
      assert.deepEqual(Object.keys(body.error.innerError).sort(), ['client-request-id', 'date', 'request-id']);
      assert.equal(body.error.innerError['client-request-id'], 'c1');
    }
  });

  test('a 429 with Retry-After is retried by the graph client RetryHandler', async () => {
    sandbox.context.faults.inject({ kind: 'graph', count: 1, params: { status: 429, retryAfter: 1 } });
    const started = Date.now();
    const user = await graph.api('/users/family@curate-me.ai').get();
    assert.equal(user.userPrincipalName, 'family@curate-me.ai');
    assert.ok(Date.now() - started >= 1000, 'waited for Retry-After');
    assert.deepEqual(sandbox.context.faults.list(), []);
  });

  test('a 500 is not retried and reaches the caller as a GraphError', async () => {
    sandbox.context.faults.inject({ kind: 'graph', count: 5, params: { status: 500 } });
    const error = await graphError(graph.api('/users/family@curate-me.ai').get());
    assert.equal(error.statusCode, 500);
    sandbox.context.faults.clear();
  });

  test('subscription handshake, then a change notification with clientState for inbound mail', async () => {
    const mailbox = sandbox.facts['mailbox-user-id'] as string;
    const before = listener.validations;
    const subscription = await graph.api('/subscriptions').post({
      changeType: 'created',
      notificationUrl: `${listener.url}/notify`,
      lifecycleNotificationUrl: `${listener.url}/lifecycle`,
      resource: `/users/${mailbox}/mailFolders('Inbox')/messages`,
      expirationDateTime: inMinutes(sandbox, 4000),
      clientState: 'state-123',
    });
    assert.equal(listener.validations - before, 2, 'both URLs were validated');
    assert.match(subscription.id, /^[0-9a-f-]{36}$/);

    const notified = listener.next('/notify');
    const inbound = await controlRequest(sandbox.facts, 'POST', '/mail/inbound', {
      from: sandbox.facts['verified-sender'],
      to: sandbox.facts['ingest-address'],
      subject: 'Soccer practice moved to 5pm',
      body: 'Please add to the calendar.',
    });
    assert.equal(inbound.status, 201);
    const [notification] = (await notified).value;
    assert.equal(notification?.subscriptionId, subscription.id);
    assert.equal(notification?.clientState, 'state-123');
    assert.equal(notification?.changeType, 'created');
    assert.equal(notification?.tenantId, sandbox.facts['tenant-id']);
    const messageId = (notification?.resourceData as { id: string }).id;
    const message = await graph.api(`/users/${mailbox}/messages/${messageId}`).get();
    assert.equal(message.subject, 'Soccer practice moved to 5pm');
    assert.equal(message.from.emailAddress.address, 'parent@example.com');

    const renewed = await graph.api(`/subscriptions/${subscription.id}`).patch({ expirationDateTime: inMinutes(sandbox, 10000) });
    assert.ok(Date.parse(renewed.expirationDateTime) > Date.parse(subscription.expirationDateTime));
    const listed = await graph.api('/subscriptions').get();
    assert.deepEqual(listed.value.map((s: { id: string }) => s.id), [subscription.id]);
    await graph.api(`/subscriptions/${subscription.id}`).delete();
    assert.equal((await graphError(graph.api(`/subscriptions/${subscription.id}`).get())).statusCode, 404);
  });

  test('subscriptions are refused when the handshake fails or the lifetime exceeds 10080 minutes', async () => {
    const bad = await startNotificationListener('wrong-token');
    try {
      const base = { changeType: 'created', resource: `/users/${sandbox.facts['mailbox-user-id']}/messages`, clientState: 's' };
      const handshake = await graphError(graph.api('/subscriptions').post({ ...base, notificationUrl: `${bad.url}/n`, expirationDateTime: inMinutes(sandbox, 60) }));
      assert.equal(handshake.statusCode, 400);
      assert.equal(handshake.code, 'ValidationError');
      const tooLong = await graphError(graph.api('/subscriptions').post({ ...base, notificationUrl: `${listener.url}/n`, expirationDateTime: inMinutes(sandbox, 10081) }));
      assert.equal(tooLong.statusCode, 400);
      assert.match(tooLong.message, /10080 minutes/);
    } finally {
      await bad.close();
    }
  });

  test('an expired subscription stops delivering and its lifecycle URL hears subscriptionRemoved', async () => {
    const subscription = await graph.api('/subscriptions').post({
      changeType: 'created',
      notificationUrl: `${listener.url}/expiring`,
      lifecycleNotificationUrl: `${listener.url}/expiring-lifecycle`,
      resource: `/users/${sandbox.facts.mailbox}/messages`,
      expirationDateTime: inMinutes(sandbox, 90),
      clientState: 'soon-gone',
    });
    const reauth = listener.next('/expiring-lifecycle');
    sandbox.context.clock.advance(45 * 60_000);
    assert.equal((await reauth).value[0]?.lifecycleEvent, 'reauthorizationRequired');
    const removed = listener.next('/expiring-lifecycle');
    sandbox.context.clock.advance(60 * 60_000);
    const [event] = (await removed).value;
    assert.equal(event?.lifecycleEvent, 'subscriptionRemoved');
    assert.equal(event?.clientState, 'soon-gone');
    await controlRequest(sandbox.facts, 'POST', '/mail/inbound', { to: sandbox.facts.mailbox, subject: 'late', body: '' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(listener.received.filter((r) => r.path === '/expiring').length, 0);
    assert.equal((await graphError(graph.api(`/subscriptions/${subscription.id}`).get())).statusCode, 404);
  });

  test('sendMail delivers to tenant mailboxes and records mail leaving the tenant', async () => {
    await graph.api('/users/family@curate-me.ai/sendMail').post({
      message: {
        subject: 'Approval needed',
        body: { contentType: 'Text', content: 'A new item awaits approval.' },
        toRecipients: [{ emailAddress: { address: 'parent@example.com' } }, { emailAddress: { address: 'admin@curate-me.ai' } }],
      },
      saveToSentItems: false,
    });
    const inbox = await graph.api('/users/admin@curate-me.ai/messages').get();
    assert.equal(inbox.value[0]?.subject, 'Approval needed');
    const external = (await (await controlRequest(sandbox.facts, 'GET', '/mail/external')).json()) as Array<{ to: string[] }>;
    assert.deepEqual(external.at(-1)?.to, ['parent@example.com']);
  });
});
