import { Hono, type Context } from 'hono';
import type { SandboxContext } from '../types.ts';
import { aadError, AADSTS, type AadError } from './aad-errors.ts';
import type { Directory } from './directory.ts';
import { GRAPH_APP_ID, GRAPH_RESOURCE, SEED } from './seed.ts';
import { TOKEN_LIFETIME_S, type TokenService } from './tokens.ts';

export interface AuthorityDeps {
  /** https://localhost:PORT, no trailing slash. */
  baseUrl: string;
  directory: Directory;
  tokens: TokenService;
  context: Pick<SandboxContext, 'clock' | 'faults' | 'log'>;
}

/** The issuer msal-node validates against the authority: same origin as the authority, like Entra's v2.0 issuer. */
export const v2Issuer = (baseUrl: string, tenant: string): string => `${baseUrl}/${tenant}/v2.0`;
/** The issuer of v1.0 access tokens (Graph's), the sandbox's stand-in for https://sts.windows.net/{tid}/. */
export const tokenIssuer = (baseUrl: string): string => `${baseUrl}/${SEED.tenantId}/`;

function resolveTenant(segment: string): string | undefined {
  const key = segment.toLowerCase();
  if (key === SEED.tenantId || key === SEED.defaultDomain || key === SEED.initialDomain) return SEED.tenantId;
  return undefined;
}

function openIdConfiguration(baseUrl: string, tenant: string): Record<string, unknown> {
  const t = `${baseUrl}/${tenant}`;
  return {
    token_endpoint: `${t}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${t}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: v2Issuer(baseUrl, tenant),
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${baseUrl.replace(/\/$/, '')}/oidc/userinfo`,
    authorization_endpoint: `${t}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${t}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${t}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
    kerberos_endpoint: `${t}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

/** Entra's login endpoints for one tenant: discovery, keys and the client-credentials token endpoint. */
export function authorityApp({ baseUrl, directory, tokens, context }: AuthorityDeps): Hono {
  const app = new Hono();
  const host = new URL(baseUrl).host;
  const now = () => context.clock.now();

  const sendAadError = (c: Context, failure: AadError) => {
    c.header('Cache-Control', 'no-store, no-cache');
    c.header('Pragma', 'no-cache');
    if (failure.retryAfterSeconds !== undefined) c.header('Retry-After', String(failure.retryAfterSeconds));
    return c.json(failure.body, failure.status as 400);
  };
  const fail = (c: Context, status: number, error: string, code: number, message: string, retryAfterSeconds?: number) =>
    sendAadError(
      c,
      aadError({
        status,
        error,
        code,
        message,
        nowMs: now(),
        correlationId: c.req.header('client-request-id'),
        errorUriBase: baseUrl,
        ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
      }),
    );

  // Instance discovery, for clients configured without knownAuthorities / cloudDiscoveryMetadata.
  app.get('/common/discovery/instance', (c) =>
    c.json({
      tenant_discovery_endpoint: `${baseUrl}/${SEED.tenantId}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    }),
  );

  app.get('/:tenant/v2.0/.well-known/openid-configuration', (c) => {
    const segment = c.req.param('tenant');
    const tenant = resolveTenant(segment);
    if (!tenant) return fail(c, 400, 'invalid_tenant', 90002, AADSTS.tenantNotFound(segment));
    return c.json(openIdConfiguration(baseUrl, tenant));
  });

  app.get('/:tenant/discovery/v2.0/keys', (c) => c.json({ keys: [tokens.jwk] }));
  app.get('/error', (c) => c.text(`AADSTS${c.req.query('code') ?? ''}: see the sandbox authority's error bodies.`));

  app.post('/:tenant/oauth2/v2.0/token', async (c) => {
    const fault = context.faults.take('token');
    if (fault) {
      const status = Number(fault.params?.status ?? 401);
      const retryAfter = Number(fault.params?.retryAfter ?? 1);
      context.log.write('authority', `token fault injected status=${status}`);
      if (status === 429) return fail(c, 429, 'temporarily_unavailable', 90055, AADSTS.throttled(), retryAfter);
      if (status >= 500) return fail(c, status, 'temporarily_unavailable', 90033, AADSTS.transient());
      return fail(c, 401, 'invalid_client', 7000215, AADSTS.wrongSecret(SEED.app.appId));
    }
    const segment = c.req.param('tenant');
    if (!resolveTenant(segment)) return fail(c, 400, 'invalid_request', 90002, AADSTS.tenantNotFound(segment));

    const form = new URLSearchParams(await c.req.text());
    // client_secret_basic is allowed too: credentials in the Authorization header.
    const basic = /^Basic (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    const [basicId, basicSecret] = basic ? Buffer.from(basic, 'base64').toString('utf8').split(':').map(decodeURIComponent) : [];
    const clientId = form.get('client_id') ?? basicId;
    const secret = form.get('client_secret') ?? basicSecret;
    const grant = form.get('grant_type');
    if (!grant) return fail(c, 400, 'invalid_request', 900144, AADSTS.missingParameter('grant_type'));
    if (grant !== 'client_credentials') return fail(c, 400, 'unsupported_grant_type', 70003, AADSTS.unsupportedGrant(grant));
    if (!clientId) return fail(c, 400, 'invalid_request', 900144, AADSTS.missingParameter('client_id'));
    const scopes = (form.get('scope') ?? '').split(' ').filter((s) => s && !['openid', 'profile', 'offline_access'].includes(s));
    const scopeOk = scopes.length === 1 && [`${GRAPH_RESOURCE}/.default`, `${GRAPH_APP_ID}/.default`].includes(scopes[0] ?? '');
    if (!scopeOk) return fail(c, 400, 'invalid_scope', 1002012, AADSTS.invalidScope(scopes.join(' ') || "''"));

    const app = directory.applicationByAppId(clientId);
    if (!app) {
      context.log.write('authority', `token client_id=${clientId} result=unknown-app`);
      return fail(c, 400, 'unauthorized_client', 700016, AADSTS.unknownApp(clientId, SEED.tenantName));
    }
    if (!secret) return fail(c, 401, 'invalid_client', 7000218, AADSTS.missingCredential());
    const check = directory.checkSecret(clientId, secret);
    context.log.write('authority', `token client_id=${clientId} result=${check}`);
    if (check === 'wrong-secret') return fail(c, 401, 'invalid_client', 7000215, AADSTS.wrongSecret(clientId));
    if (check === 'expired-secret') return fail(c, 401, 'invalid_client', 7000222, AADSTS.expiredSecret(clientId));

    c.header('Cache-Control', 'no-store, no-cache');
    c.header('Pragma', 'no-cache');
    return c.json({
      token_type: 'Bearer',
      expires_in: TOKEN_LIFETIME_S,
      ext_expires_in: TOKEN_LIFETIME_S,
      access_token: await tokens.issue(app.appId, app.displayName),
    });
  });

  app.notFound((c) => fail(c, 404, 'invalid_request', 90010, `The request is not supported: ${c.req.method} ${c.req.path}.`));
  return app;
}
