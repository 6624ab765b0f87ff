import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfidentialClientApplication, type Configuration } from '@azure/msal-node';
import { Client } from '@microsoft/microsoft-graph-client';
import { createGraphFetchOptions } from '../../common/net/graph.ts';
import { createMsalNetworkClient } from '../../common/net/msal.ts';
import { createIdentityComponent, type IdentityOptions } from '../identity/index.ts';
import { startSandbox, type SandboxHandle, type SandboxOptions } from '../index.ts';

/** A sandbox in a fresh temp folder, removed when it stops. */
export async function startTempSandbox(options: Omit<SandboxOptions, 'dir'> = {}, prefix = 'sandbox-test-'): Promise<SandboxHandle> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const handle = await startSandbox({ ...options, dir });
  return {
    ...handle,
    async stop() {
      await handle.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An identity-only sandbox (the platform side has its own tests), with its CA at hand. */
export async function startIdentitySandbox(identity: IdentityOptions = {}): Promise<SandboxHandle & { caPem: string }> {
  const handle = await startTempSandbox({ components: [createIdentityComponent(identity)] });
  return { ...handle, caPem: readFileSync(handle.facts['ca-file'] as string, 'utf8') };
}

/**
 * The msal-node configuration that points a confidential client at the sandbox: authority on the sandbox host,
 * that host in knownAuthorities (skips instance discovery against the public cloud), and a network client that
 * trusts the sandbox CA in addition to the default roots.
 */
export function sandboxMsalConfig(facts: Readonly<Record<string, string>>, caPem: string, clientSecret: string, clientId = facts['client-id'] as string): Configuration {
  const authority = facts.authority as string;
  return {
    auth: {
      clientId,
      clientSecret,
      authority: `${authority}/${facts['tenant-id']}`,
      knownAuthorities: [new URL(authority).host],
    },
    system: { networkClient: createMsalNetworkClient(caPem) },
  };
}

export const GRAPH_SCOPES = ['https://graph.microsoft.com/.default'];

export function msalClient(facts: Readonly<Record<string, string>>, caPem: string, secret: string, clientId?: string): ConfidentialClientApplication {
  return new ConfidentialClientApplication(sandboxMsalConfig(facts, caPem, secret, clientId));
}

/** The current secret the tenant was seeded with (tests only; production never reads values back). */
export function currentSecret(handle: SandboxHandle): string {
  const credential = handle.context.tenant?.credentials()[0];
  if (!credential) throw new Error('the sandbox tenant has no credential');
  return credential.value;
}

/**
 * A Graph client configured for the sandbox the way production code would be, plus config only: an msal-backed
 * auth provider, `baseUrl` on the sandbox host, `customHosts` so the bearer token is sent to it, and fetch options
 * trusting the sandbox CA.
 */
export function sandboxGraphClient(facts: Readonly<Record<string, string>>, caPem: string, secret: string): Client {
  const msal = msalClient(facts, caPem, secret);
  return Client.initWithMiddleware({
    authProvider: {
      async getAccessToken() {
        const result = await msal.acquireTokenByClientCredential({ scopes: GRAPH_SCOPES });
        if (!result) throw new Error('msal returned no token');
        return result.accessToken;
      },
    },
    baseUrl: `${facts.graph}/`,
    customHosts: new Set([new URL(facts.graph as string).hostname]),
    fetchOptions: createGraphFetchOptions(caPem),
  });
}

export interface NotificationListener {
  url: string;
  /** Every JSON notification body received (validation requests excluded). */
  received: Array<{ path: string; body: { value: Array<Record<string, unknown>> } }>;
  validations: number;
  /** Resolves with the next notification whose path is `path`, or rejects after `timeoutMs`. */
  next(path: string, timeoutMs?: number): Promise<{ value: Array<Record<string, unknown>> }>;
  close(): Promise<void>;
}

/**
 * A webhook receiver like the backend's: echoes `validationToken` as text/plain (or misbehaves when asked to), and
 * records notifications. Plain http on loopback, which the sandbox's Graph accepts for tests.
 */
export async function startNotificationListener(behaviour: 'echo' | 'wrong-token' = 'echo'): Promise<NotificationListener> {
  const received: NotificationListener['received'] = [];
  const waiters: Array<{ path: string; resolve: (body: { value: Array<Record<string, unknown>> }) => void }> = [];
  const state = { validations: 0 };
  const server = createHttpServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const token = url.searchParams.get('validationToken');
    if (token !== null) {
      state.validations += 1;
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(behaviour === 'echo' ? token : 'something else');
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { value: Array<Record<string, unknown>> };
    received.push({ path: url.pathname, body });
    response.writeHead(202).end();
    const index = waiters.findIndex((waiter) => waiter.path === url.pathname);
    if (index >= 0) waiters.splice(index, 1)[0]?.resolve(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    get validations() {
      return state.validations;
    },
    next(path, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no notification on ${path} within ${timeoutMs}ms`)), timeoutMs);
        waiters.push({ path, resolve: (body) => (clearTimeout(timer), resolve(body)) });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

