import { randomUUID } from 'node:crypto';
import { Hono, type Context } from 'hono';
import type { PasswordCredential, SandboxContext } from '../../types.ts';
import type { Application, Directory, User } from '../directory.ts';
import type { AccessTokenClaims, TokenService } from '../tokens.ts';
import { SEED } from '../seed.ts';
import { badRequest, GraphFailure, graphErrorBody, notFound } from './errors.ts';
import type { Mail, Recipient } from './mail.ts';
import type { Subscriptions } from './subscriptions.ts';

export interface GraphDeps {
  baseUrl: string;
  directory: Directory;
  tokens: TokenService;
  mail: Mail;
  subscriptions: Subscriptions;
  context: Pick<SandboxContext, 'clock' | 'faults' | 'log'>;
}

interface Call {
  method: string;
  /** Decoded path below /v1.0, e.g. `/applications(appId='...')/addPassword`. */
  path: string;
  query: Record<string, string>;
  body: () => Promise<Record<string, unknown>>;
  claims: AccessTokenClaims;
}

type Answer = { status: number; body?: unknown };
type Handler = (call: Call, match: RegExpExecArray) => Promise<Answer> | Answer;

const odata = (baseUrl: string, fragment: string) => `${baseUrl}/v1.0/$metadata#${fragment}`;

/** A password credential as Graph shows it after creation: never the value. */
const publicCredential = (credential: PasswordCredential) => ({
  customKeyIdentifier: null,
  displayName: credential.displayName,
  endDateTime: credential.endDateTime,
  hint: credential.hint,
  keyId: credential.keyId,
  secretText: null,
  startDateTime: credential.startDateTime,
});

function applicationJson(baseUrl: string, app: Application) {
  return {
    '@odata.context': odata(baseUrl, 'applications/$entity'),
    id: app.id,
    deletedDateTime: null,
    appId: app.appId,
    createdDateTime: app.createdDateTime,
    displayName: app.displayName,
    publisherDomain: SEED.defaultDomain,
    signInAudience: 'AzureADMyOrg',
    identifierUris: [],
    keyCredentials: [],
    passwordCredentials: app.passwordCredentials.map(publicCredential),
    requiredResourceAccess: [],
  };
}

const userJson = (user: User) => ({
  id: user.id,
  displayName: user.displayName,
  userPrincipalName: user.userPrincipalName,
  mail: user.mail,
  businessPhones: [],
  givenName: null,
  surname: null,
  jobTitle: null,
  mobilePhone: null,
  officeLocation: null,
  preferredLanguage: 'en-US',
});

const requireRole = (claims: AccessTokenClaims, role: string) => {
  if (!claims.roles?.includes(role)) {
    throw new GraphFailure(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
  }
};

/** The Graph v1.0 subset the runbook and the backend use, behind bearer-token checks, faults and Graph's errors. */
export function graphApp(deps: GraphDeps): Hono {
  const { baseUrl, directory, mail, subscriptions, context } = deps;

  const appFromSegment = (segment: string): Application => {
    const byAppId = /^applications\(appId='([^']+)'\)$/i.exec(segment);
    const app = byAppId ? directory.applicationByAppId(byAppId[1] ?? '') : directory.application(segment.replace(/^applications\//i, ''));
    if (!app) throw notFound(byAppId?.[1] ?? segment.replace(/^applications\//i, ''));
    return app;
  };
  const userFrom = (id: string): User => {
    const user = directory.user(id);
    if (!user) throw notFound(id);
    return user;
  };

  const routes: Array<[string, RegExp, Handler]> = [
    ['GET', /^\/applications$/i, ({ query }) => {
      const filter = query.$filter;
      let apps = directory.applications;
      if (filter) {
        const byAppId = /^appId eq '([^']+)'$/i.exec(filter.trim());
        if (!byAppId) throw badRequest(`Invalid filter clause: ${filter}`, 'Request_UnsupportedQuery');
        apps = apps.filter((app) => app.appId.toLowerCase() === (byAppId[1] ?? '').toLowerCase());
      }
      return {
        status: 200,
        body: { '@odata.context': odata(baseUrl, 'applications'), value: apps.map((app) => { const { '@odata.context': _context, ...json } = applicationJson(baseUrl, app); return json; }) },
      };
    }],
    ['GET', /^\/(applications\([^)]*\)|applications\/[^/]+)$/i, (_call, m) => ({ status: 200, body: applicationJson(baseUrl, appFromSegment(m[1] ?? '')) })],
    ['POST', /^\/(applications\([^)]*\)|applications\/[^/]+)\/addPassword$/i, async (call, m) => {
      const app = appFromSegment(m[1] ?? '');
      const input = ((await call.body()).passwordCredential ?? {}) as Record<string, unknown>;
      const end = input.endDateTime === undefined ? undefined : String(input.endDateTime);
      if (end !== undefined && Number.isNaN(Date.parse(end))) throw badRequest("Invalid value specified for property 'endDateTime' of resource 'PasswordCredential'.", 'Request_BadRequest');
      const credential = directory.addPassword(app, {
        ...(input.displayName !== undefined ? { displayName: String(input.displayName) } : {}),
        ...(end !== undefined ? { endDateTime: new Date(end).toISOString() } : {}),
      });
      context.log.write('graph', `addPassword app=${app.appId} keyId=${credential.keyId} hint=${credential.hint}`);
      return {
        status: 200,
        body: { '@odata.context': odata(baseUrl, 'microsoft.graph.passwordCredential'), ...publicCredential(credential), secretText: credential.value },
      };
    }],
    ['POST', /^\/(applications\([^)]*\)|applications\/[^/]+)\/removePassword$/i, async (call, m) => {
      const app = appFromSegment(m[1] ?? '');
      const keyId = String((await call.body()).keyId ?? '');
      if (!directory.removePassword(app, keyId)) {
        throw badRequest(`No password credential found with keyId '${keyId}'.`, 'Request_BadRequest');
      }
      context.log.write('graph', `removePassword app=${app.appId} keyId=${keyId}`);
      return { status: 204 };
    }],
    ['GET', /^\/users$/i, () => ({ status: 200, body: { '@odata.context': odata(baseUrl, 'users'), value: directory.users.map(userJson) } })],
    ['GET', /^\/users\/([^/]+)$/i, (_c, m) => ({ status: 200, body: { '@odata.context': odata(baseUrl, 'users/$entity'), ...userJson(userFrom(m[1] ?? '')) } })],
    ['POST', /^\/users\/([^/]+)\/sendMail$/i, async (call, m) => {
      const user = userFrom(m[1] ?? '');
      const body = await call.body();
      const message = body.message as Record<string, unknown> | undefined;
      if (!message) throw badRequest("Required property 'message' is missing.", 'ErrorInvalidParameter');
      const to = (message.toRecipients ?? []) as Recipient[];
      const cc = (message.ccRecipients ?? []) as Recipient[];
      const valid = (r: Recipient) => typeof r?.emailAddress?.address === 'string' && /^[^@\s]+@[^@\s]+$/.test(r.emailAddress.address);
      if (to.length + cc.length === 0 || ![...to, ...cc].every(valid)) {
        throw badRequest("At least one recipient isn't valid., A message can't be sent because it contains no recipients.", 'ErrorInvalidRecipients');
      }
      const content = (message.body ?? {}) as { contentType?: string; content?: string };
      const delivered = mail.send({
        subject: String(message.subject ?? ''),
        body: { contentType: content.contentType?.toLowerCase() === 'html' ? 'html' : 'text', content: String(content.content ?? '') },
        from: { name: user.displayName, address: user.mail },
        toRecipients: to,
        ccRecipients: cc,
      });
      context.log.write('graph', `sendMail from=${user.mail} to=${to.map((r) => r.emailAddress.address).join(',')} delivered=${delivered.length}`);
      return { status: 202 };
    }],
    ['GET', /^\/users\/([^/]+)\/(?:messages|mailFolders\/inbox\/messages)$/i, ({ query }, m) => {
      const user = userFrom(m[1] ?? '');
      const top = query.$top ? Number(query.$top) : 10;
      return { status: 200, body: { '@odata.context': odata(baseUrl, `users('${user.id}')/messages`), value: mail.messages(user).slice(0, top) } };
    }],
    ['GET', /^\/users\/([^/]+)\/messages\/([^/]+)$/i, (_c, m) => {
      const user = userFrom(m[1] ?? '');
      const message = mail.message(user, m[2] ?? '');
      if (!message) throw new GraphFailure(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
      return { status: 200, body: { '@odata.context': odata(baseUrl, `users('${user.id}')/messages/$entity`), ...message } };
    }],
    ['GET', /^\/subscriptions$/i, () => ({ status: 200, body: { '@odata.context': odata(baseUrl, 'subscriptions'), value: subscriptions.list() } })],
    ['POST', /^\/subscriptions$/i, async (call) => ({
      status: 201,
      body: { '@odata.context': odata(baseUrl, 'subscriptions/$entity'), ...(await subscriptions.create(await call.body(), call.claims.appid)) },
    })],
    ['GET', /^\/subscriptions\/([^/]+)$/i, (_c, m) => ({ status: 200, body: { '@odata.context': odata(baseUrl, 'subscriptions/$entity'), ...subscriptions.get(m[1] ?? '') } })],
    ['PATCH', /^\/subscriptions\/([^/]+)$/i, async (call, m) => ({
      status: 200,
      body: { '@odata.context': odata(baseUrl, 'subscriptions/$entity'), ...subscriptions.renew(m[1] ?? '', await call.body()) },
    })],
    ['DELETE', /^\/subscriptions\/([^/]+)$/i, (_c, m) => {
      subscriptions.delete(m[1] ?? '');
      return { status: 204 };
    }],
    ['POST', /^\/subscriptions\/([^/]+)\/reauthorize$/i, (_c, m) => {
      subscriptions.reauthorize(m[1] ?? '');
      return { status: 204 };
    }],
  ];
  /** The application permission each route needs, as Graph documents for app-only calls. */
  const roleFor = (path: string): string =>
    /^\/applications/i.test(path) ? 'Application.ReadWrite.OwnedBy'
    : /\/sendMail$/i.test(path) ? 'Mail.Send'
    : /\/messages|^\/subscriptions/i.test(path) ? 'Mail.Read'
    : 'User.Read.All';

  const app = new Hono();
  app.all('*', async (c: Context) => {
    const requestId = randomUUID();
    const clientRequestId = c.req.header('client-request-id') ?? requestId;
    c.header('request-id', requestId);
    c.header('client-request-id', clientRequestId);
    const fail = (failure: GraphFailure) => {
      for (const [name, value] of Object.entries(failure.headers)) c.header(name, value);
      return c.json(graphErrorBody(failure.code, failure.message, requestId, clientRequestId, context.clock.now()), failure.status as 400);
    };
    try {
      const fault = context.faults.take('graph');
      if (fault) {
        const status = Number(fault.params?.status ?? 503);
        context.log.write('graph', `fault injected status=${status} ${c.req.method} ${c.req.path}`);
        if (status === 429) {
          throw new GraphFailure(429, 'TooManyRequests', 'Too many requests. Please retry after the time in the Retry-After header.', {
            'Retry-After': String(fault.params?.retryAfter ?? 1),
          });
        }
        const code = status === 503 ? 'serviceNotAvailable' : status === 504 ? 'gatewayTimeout' : 'generalException';
        throw new GraphFailure(status, code, 'The service is temporarily unavailable. Please try again later.', status === 503 ? { 'Retry-After': String(fault.params?.retryAfter ?? 1) } : {});
      }
      const raw = c.req.path;
      if (!/^\/v1\.0(\/|$)/i.test(raw)) throw badRequest(`Invalid version: ${raw.split('/')[1] ?? ''}`, 'BadRequest');
      const path = decodeURIComponent(raw.replace(/^\/v1\.0/i, '')).replace(/\/$/, '');

      const authorization = c.req.header('authorization') ?? '';
      const bearer = /^Bearer (.+)$/i.exec(authorization)?.[1];
      if (!bearer) throw new GraphFailure(401, 'InvalidAuthenticationToken', 'Access token is empty.', { 'WWW-Authenticate': 'Bearer realm="", error="invalid_token"' });
      const check = await deps.tokens.verify(bearer);
      if (!check.ok) throw new GraphFailure(401, 'InvalidAuthenticationToken', check.message, { 'WWW-Authenticate': 'Bearer realm="", error="invalid_token"' });
      if (check.claims.tid !== SEED.tenantId) throw new GraphFailure(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid tenant.');

      const method = c.req.method;
      for (const [verb, pattern, handler] of routes) {
        const match = verb === method ? pattern.exec(path) : null;
        if (!match) continue;
        requireRole(check.claims, roleFor(path));
        const answer = await handler(
          {
            method,
            path,
            query: c.req.query(),
            claims: check.claims,
            body: async () => {
              const text = await c.req.text();
              try {
                const parsed: unknown = text ? JSON.parse(text) : {};
                if (!parsed || typeof parsed !== 'object') throw new Error('not an object');
                return parsed as Record<string, unknown>;
              } catch {
                throw badRequest('Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
              }
            },
          },
          match,
        );
        if (answer.body === undefined) return c.body(null, answer.status as 204);
        return c.json(answer.body, answer.status as 200);
      }
      throw badRequest(`Resource not found for the segment '${path.split('/')[1] ?? ''}'.`);
    } catch (error) {
      if (error instanceof GraphFailure) return fail(error);
      context.log.write('graph', `internal error ${error instanceof Error ? error.message : String(error)}`);
      return fail(new GraphFailure(500, 'generalException', 'An unexpected error occurred.'));
    }
  });
  return app;
}
