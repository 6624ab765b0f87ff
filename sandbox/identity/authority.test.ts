import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ServerError } from '@azure/msal-node';
import { decodeJwt } from 'jose';
import { createFetch } from '../../common/net/tls.ts';
import { currentSecret, GRAPH_SCOPES, msalClient, startIdentitySandbox } from '../test/helpers.ts';

type Sandbox = Awaited<ReturnType<typeof startIdentitySandbox>>;

async function msalError(promise: Promise<unknown>): Promise<ServerError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ServerError, `expected msal ServerError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected acquireTokenByClientCredential to fail');
}

describe('sandbox authority with the real msal-node', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startIdentitySandbox();
  });
  after(async () => {
    await sandbox?.stop();
  });

  test('mints a Graph token for the current secret', async () => {
    const result = await msalClient(sandbox.facts, sandbox.caPem, currentSecret(sandbox)).acquireTokenByClientCredential({ scopes: GRAPH_SCOPES });
    assert.ok(result?.accessToken);
    assert.equal(result.tokenType, 'Bearer');
    const lifetimeS = Math.round(((result.expiresOn?.getTime() ?? 0) - Date.now()) / 1000);
    assert.ok(lifetimeS > 3500 && lifetimeS <= 3599, `lifetime ${lifetimeS}s`);
    const claims = decodeJwt(result.accessToken);
    assert.equal(claims.aud, 'https://graph.microsoft.com');
    assert.equal(claims.appid, sandbox.facts['client-id']);
    assert.equal(claims.tid, sandbox.facts['tenant-id']);
    assert.deepEqual(claims.roles, ['Application.ReadWrite.OwnedBy', 'Mail.Send', 'Mail.Read', 'User.Read.All']);
    assert.equal(claims.iss, `${sandbox.facts.authority}/${sandbox.facts['tenant-id']}/`);
  });

  test('a wrong secret fails with invalid_client AADSTS7000215', async () => {
    const error = await msalError(msalClient(sandbox.facts, sandbox.caPem, 'not-the-secret').acquireTokenByClientCredential({ scopes: GRAPH_SCOPES }));
    assert.equal(error.errorCode, 'invalid_client');
    assert.match(error.errorMessage, /AADSTS7000215: Invalid client secret provided\./);
    assert.match(error.errorMessage, /Trace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ/);
    assert.equal(String(error.errorNo), '7000215');
  });

  test('an unknown client id fails with unauthorized_client AADSTS700016', async () => {
    const unknown = '11111111-2222-4333-8444-555555555555';
    const error = await msalError(msalClient(sandbox.facts, sandbox.caPem, 'whatever', unknown).acquireTokenByClientCredential({ scopes: GRAPH_SCOPES }));
    assert.equal(error.errorCode, 'unauthorized_client');
    assert.match(error.errorMessage, new RegExp(`AADSTS700016: Application with identifier '${unknown}' was not found in the directory 'Curate-Me'`));
  });

  test('error bodies are JSON with every field Entra sends, and 400/401 carry no Retry-After', async () => {
    const fetchWithTrust = createFetch(sandbox.caPem);
    const tokenUrl = `${sandbox.facts.authority}/${sandbox.facts['tenant-id']}/oauth2/v2.0/token`;
    const post = (clientId: string) =>
      fetchWithTrust(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'client-request-id': 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee' },
        body: new URLSearchParams({ client_id: clientId, client_secret: 'x', grant_type: 'client_credentials', scope: GRAPH_SCOPES[0] as string }).toString(),
      });
    for (const [clientId, status, error, code] of [
      [sandbox.facts['client-id'] as string, 401, 'invalid_client', 7000215],
      ['11111111-2222-4333-8444-555555555555', 400, 'unauthorized_client', 700016],
    ] as const) {
      const response = await post(clientId);
      assert.equal(response.status, status);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(response.headers.get('retry-after'), null);
      const body = (await response.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['correlation_id', 'error', 'error_codes', 'error_description', 'error_uri', 'timestamp', 'trace_id']);
      assert.equal(body.error, error);
      assert.deepEqual(body.error_codes, [code]);
      assert.equal(body.correlation_id, 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee');
      assert.match(String(body.error_uri), new RegExp(`error\\?code=${code}$`));
    }
  });

  test('clients that do not trust the sandbox CA are refused (verification stays on)', async () => {
    await assert.rejects(fetch(`${sandbox.facts.authority}/${sandbox.facts['tenant-id']}/v2.0/.well-known/openid-configuration`), (error: Error) => {
      assert.match(String((error.cause as { code?: string })?.code), /UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
      return true;
    });
  });

  test('an injected token 429 reaches msal with Retry-After, then the next request succeeds', async () => {
    sandbox.context.faults.inject({ kind: 'token', count: 1, params: { status: 429, retryAfter: 2 } });
    const error = await msalError(msalClient(sandbox.facts, sandbox.caPem, currentSecret(sandbox)).acquireTokenByClientCredential({ scopes: GRAPH_SCOPES }));
    assert.equal(error.errorCode, 'temporarily_unavailable');
    // A fresh client: msal caches a throttle for its own instance after a 429.
    const result = await msalClient(sandbox.facts, sandbox.caPem, currentSecret(sandbox)).acquireTokenByClientCredential({ scopes: GRAPH_SCOPES });
    assert.ok(result?.accessToken);
  });

  test('an injected token 401 and 503 fail one request each', async () => {
    sandbox.context.faults.inject({ kind: 'token', count: 1, params: { status: 401 } });
    sandbox.context.faults.inject({ kind: 'token', count: 1, params: { status: 503 } });
    const first = await msalError(msalClient(sandbox.facts, sandbox.caPem, currentSecret(sandbox)).acquireTokenByClientCredential({ scopes: GRAPH_SCOPES }));
    assert.equal(first.errorCode, 'invalid_client');
    const second = await msalError(msalClient(sandbox.facts, sandbox.caPem, currentSecret(sandbox)).acquireTokenByClientCredential({ scopes: GRAPH_SCOPES }));
    assert.equal(second.errorCode, 'temporarily_unavailable');
    assert.deepEqual(sandbox.context.faults.list(), []);
  });

  // Last: it moves the sandbox clock past the seeded secret's expiry.
  test('the secret expires on the sandbox clock: AADSTS7000222 after advancing past its end date', async () => {
    const secret = currentSecret(sandbox);
    const endsAt = Date.parse(sandbox.context.tenant?.credentials()[0]?.endDateTime ?? '');
    assert.equal(sandbox.context.tenant?.isSecretValid(sandbox.facts['client-id'] as string, secret), true);
    sandbox.context.clock.advance(endsAt - sandbox.context.clock.now() + 60_000);
    assert.equal(sandbox.context.tenant?.isSecretValid(sandbox.facts['client-id'] as string, secret), false);
    const error = await msalError(msalClient(sandbox.facts, sandbox.caPem, secret).acquireTokenByClientCredential({ scopes: GRAPH_SCOPES }));
    assert.equal(error.errorCode, 'invalid_client');
    assert.match(error.errorMessage, /AADSTS7000222: The provided client secret keys for app '[0-9a-f-]+' are expired\./);
  });
});
