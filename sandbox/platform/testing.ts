/** Helpers for the platform side's tests: a real sandbox, the real OpenSSH client, the tenant's real APIs. */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent } from 'undici';
import { credentialHeaders } from '../credential.ts';
import type { SandboxHandle } from '../index.ts';
import { startTempSandbox } from '../test/helpers.ts';
import { createIdentityComponent } from '../identity/index.ts';
import { createPlatformComponent, platformOf, type Platform, type PlatformOptions } from './platform.ts';

export { waitFor } from '../../common/testing.ts';

export interface TestSandbox {
  sandbox: SandboxHandle;
  platform: Platform;
  facts: Readonly<Record<string, string>>;
  /** Runs the real `ssh -F <config> curateme-vps <command>`. */
  ssh(command: string, input?: string): Promise<RunResult>;
  /** Runs the real `scp -F <config> ...args`. */
  scp(...args: string[]): Promise<RunResult>;
  /** fetch trusting the sandbox CA. */
  fetch(url: string, init?: { method?: string; body?: unknown; headers?: Record<string, string> }): Promise<Response>;
  /** Graph call as the app, authenticating with `secret`. */
  graph<T>(secret: string, method: string, path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

export interface RunResult { code: number; stdout: string; stderr: string }

export async function startTestSandbox(options: PlatformOptions = {}): Promise<TestSandbox> {
  const sandbox = await startTempSandbox({ components: [createIdentityComponent(), createPlatformComponent(options)] }, 'platform-test-');
  const platform = platformOf(sandbox.context)!;
  const facts = sandbox.facts;
  const agent = new Agent({ connect: { ca: sandbox.context.ca.certPem } });
  const run = (bin: string, args: string[], input?: string): Promise<RunResult> => new Promise((resolve) => {
    const child = execFile(bin, args, { timeout: 20_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 255) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
  // The control API and the portal need the sandbox's credential; the authority and Graph have their own auth.
  const portalOrigin = new URL(facts.portal!).origin;
  const doFetch = (url: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
    fetch(url, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: {
        ...(new URL(url).origin === portalOrigin ? credentialHeaders(facts) : {}),
        ...(init.body === undefined || typeof init.body === 'string' ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
      dispatcher: agent,
    } as RequestInit);
  const graph = async <T>(secret: string, method: string, path: string, body?: unknown): Promise<T> => {
    const tokenRes = await doFetch(`${facts.authority}/${facts['tenant-id']}/oauth2/v2.0/token`, {
      body: new URLSearchParams({
        client_id: facts['client-id']!, client_secret: secret, grant_type: 'client_credentials',
        scope: 'https://graph.microsoft.com/.default',
      }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const { access_token: token } = (await tokenRes.json()) as { access_token?: string };
    if (!token) throw new Error(`token request failed: ${tokenRes.status}`);
    const res = await doFetch(`${facts.graph}/v1.0/${path}`, { method, body, headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`graph ${method} ${path}: ${res.status} ${await res.text()}`);
    return (res.status === 204 ? undefined : await res.json()) as T;
  };
  return {
    sandbox, platform, facts,
    ssh: (command, input) => run('ssh', ['-F', facts['ssh-config']!, facts['ssh-host']!, command], input),
    scp: (...args) => run('scp', ['-F', facts['ssh-config']!, ...args]),
    fetch: doFetch,
    graph,
    stop: async () => {
      await sandbox.stop();
      await agent.close();
    },
  };
}

/** The current secret of the app as the tenant holds it (test-only: the value never goes to output). */
export function liveSecret(t: TestSandbox): string {
  const tenant = t.sandbox.context.tenant!;
  return tenant.credentials().find((c) => tenant.isSecretValid(tenant.appId, c.value))!.value;
}

/** Sets MICROSOFT_GRAPH_CLIENT_SECRET in the VPS env file (as the runbook's python edit does), without printing it. */
export function setEnvSecret(t: TestSandbox, secret: string): void {
  const text = readFileSync(t.platform.vps.envFile, 'utf8');
  writeFileSync(t.platform.vps.envFile, text.replace(/^MICROSOFT_GRAPH_CLIENT_SECRET=.*$/m, `MICROSOFT_GRAPH_CLIENT_SECRET=${secret}`), { mode: 0o600 });
}

/** The runbook's Step 4 fast path: recreate both API containers and wait for them to be healthy. */
export async function recreateBackends(t: TestSandbox): Promise<void> {
  await t.platform.composeUp(['backend-b2b', 'backend-gateway'], true);
  await t.platform.waitHealthy(['curateme-backend-b2b', 'curateme-backend-gateway']);
}
