import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import type { MutableSandboxContext } from '../context.ts';
import { CONTROL_PREFIX, controlApp, requireCredential } from '../control.ts';
import { startBrowserProxy } from '../browser-proxy.ts';
import { listenHttps, type Listener } from '../listen.ts';
import { spkiHash } from '../tls.ts';
import type { ComponentHandle, SandboxComponent, SandboxContext } from '../types.ts';
import { authorityApp, tokenIssuer } from './authority.ts';
import { Directory, type DirectoryOptions } from './directory.ts';
import { graphApp } from './graph/app.ts';
import { Mail } from './graph/mail.ts';
import { Subscriptions } from './graph/subscriptions.ts';
import { identityControlRoutes } from './control-routes.ts';
import { portalApp } from './portal/app.tsx';
import { ingestAddress, SEED } from './seed.ts';
import { TokenService } from './tokens.ts';

/** The Azure CLI's well-known public client id: admin tokens in the sandbox look like the ones `az` gets. */
const AZURE_CLI_APP_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

export type IdentityOptions = DirectoryOptions;

function isMutable(context: SandboxContext): context is MutableSandboxContext {
  return 'controlRoutes' in context;
}

/**
 * The Microsoft half of the sandbox: the Entra authority, Graph v1.0 and the admin portal, each on its own https
 * loopback port, plus the control API (served beside the portal). Sets `context.tenant`.
 */
export function createIdentityComponent(options: IdentityOptions = {}): SandboxComponent {
  return {
    name: 'identity',
    async start(context): Promise<ComponentHandle> {
      if (!isMutable(context)) throw new Error('The identity component needs the context created by startSandbox');
      const tls = context.loopbackCert();
      const directory = new Directory(context.clock, options);
      context.tenant = directory;
      const listeners: Array<Pick<Listener, 'close'>> = [];
      const stoppers: Array<() => void> = [];
      const teardown = async () => {
        for (const stop of stoppers) stop();
        await Promise.all(listeners.map((listener) => listener.close()));
      };
      try {
        // The authority's URL is part of the token issuer, so it is bound before the tokens are created.
        let authorityHandler: (request: Request) => Response | Promise<Response> = () => new Response(null, { status: 503 });
        const authority = await listenHttps((request) => authorityHandler(request), tls);
        listeners.push(authority);
        const tokens = await TokenService.create(context.clock, tokenIssuer(authority.url), join(dirname(context.ca.certPath), 'token-signing.key'));
        directory.trackTokens(() => tokens.issuedTokens());
        authorityHandler = authorityApp({ baseUrl: authority.url, directory, tokens, context }).fetch;

        const mail = new Mail(directory, context.clock);
        const subscriptions = new Subscriptions({ context, directory, mail });
        stoppers.push(() => subscriptions.stop());
        let graphHandler: (request: Request) => Response | Promise<Response> = () => new Response(null, { status: 503 });
        const graph = await listenHttps((request) => graphHandler(request), tls);
        listeners.push(graph);
        graphHandler = graphApp({ baseUrl: graph.url, directory, tokens, mail, subscriptions, context }).fetch;

        context.addControlRoute(identityControlRoutes({ context, directory, mail, subscriptions }));
        // What `az account get-access-token --resource-type ms-graph -o tsv` gives a signed-in Application
        // Administrator in production: a Graph token that may manage the app's credentials (the portal steps'
        // automation uses it). Plain text, so the same `admin-token-command` shape works on both targets.
        context.addControlRoute(async ({ method, path }) =>
          method === 'POST' && path === `${CONTROL_PREFIX}/admin-token`
            ? { status: 200, body: await tokens.issue(AZURE_CLI_APP_ID, 'Microsoft Azure CLI') }
            : undefined,
        );
        const front = new Hono();
        // The control API and the portal answer only requests that carry the sandbox's credential.
        front.use('*', requireCredential(context.credential.token));
        front.route('/', controlApp(context));
        front.route('/', portalApp({ directory, context }));
        const portal = await listenHttps(front.fetch, tls);
        listeners.push(portal);
        // A browser's way in that leaves the credential out of every request it makes (and so out of its traces).
        const browserProxy = await startBrowserProxy({ token: context.credential.token, accept: new Map([[portal.port, portal.accept]]) });
        listeners.push(browserProxy);

        const facts: Record<string, string> = {
          authority: authority.url,
          graph: graph.url,
          portal: portal.url,
          control: `${portal.url}/_sandbox`,
          'browser-proxy': browserProxy.url,
          'tls-spki': spkiHash(tls.certPem),
          'tenant-id': SEED.tenantId,
          'tenant-domain': SEED.defaultDomain,
          'client-id': SEED.app.appId,
          'app-object-id': SEED.app.objectId,
          'app-display-name': SEED.app.displayName,
          mailbox: SEED.mailbox.userPrincipalName,
          'mailbox-user-id': SEED.mailbox.id,
          'ingest-address': ingestAddress(),
          'verified-sender': SEED.verifiedSender.address,
        };
        context.log.write('identity', `authority ${authority.url} graph ${graph.url} portal ${portal.url}`);
        return { facts, stop: teardown };
      } catch (error) {
        await teardown();
        throw error;
      }
    },
  };
}
