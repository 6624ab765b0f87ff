import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createFetch } from '../common/net/tls.ts';
import { controlRequest } from '../sandbox/client.ts';

/** Secrets are compared by digest, so a failed assertion never prints one. */
export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The VPS env file of a sandbox (`vps-home` + `env-file`). */
export function envFileOf(facts: Readonly<Record<string, string | undefined>>): string {
  return path.join(facts['vps-home']!, facts['env-file']!);
}

/** The client secret the VPS env file holds now ('' when it holds none). */
export function envFileSecret(facts: Readonly<Record<string, string | undefined>>): string {
  return /^MICROSOFT_GRAPH_CLIENT_SECRET=(.*)$/m.exec(readFileSync(envFileOf(facts), 'utf8'))?.[1] ?? '';
}

/** Whether `secret` mints a client-credentials token at the sandbox's authority (as the backend would ask for one). */
export async function mintsToken(facts: Readonly<Record<string, string | undefined>>, secret: string): Promise<boolean> {
  if (!secret) return false;
  const response = await createFetch(readFileSync(facts['ca-file']!, 'utf8'))(`${facts.authority}/${facts['tenant-id']}/oauth2/v2.0/token`, {
    method: 'POST',
    body: new URLSearchParams({ client_id: facts['client-id']!, client_secret: secret, grant_type: 'client_credentials', scope: 'https://graph.microsoft.com/.default' }),
  });
  return response.ok && typeof ((await response.json()) as { access_token?: unknown }).access_token === 'string';
}

/** A GET of the sandbox's control API, as JSON. */
export async function readControl<T>(facts: Record<string, string>, route: string): Promise<T> {
  const response = await controlRequest(facts, 'GET', route);
  return (await response.json()) as T;
}

export interface SafeState {
  credentials: Array<{ keyId: string }>;
  /** Both-dead windows and leaks the invariant monitor has recorded since the sandbox started. */
  bothDead: number;
  leaks: number;
}

/**
 * What every failure must leave (issue 11): the env file's secret mints a token (so the tenant holds at least one
 * valid secret, the one in service), no temp upload on the VPS, and no new both-dead window or leak on the monitor
 * since `before`. Armed faults are cleared first: the check's own token request must not meet one. Returns the state
 * to compare the next case with.
 */
export async function assertSafe(facts: Record<string, string>, before: SafeState | undefined, label: string, options: { killed?: boolean } = {}): Promise<SafeState> {
  await controlRequest(facts, 'DELETE', '/faults');
  const envSecret = envFileSecret(facts);
  if (!(await mintsToken(facts, envSecret))) throw new Error(`${label}: the env file's secret does not mint a token`);
  // A runner killed with SIGKILL mid-upload cannot shred what it uploaded: runbook.md's update-env shreds what an
  // interrupted attempt left when it runs again, so after a kill the upload is checked after the resume instead.
  const uploads = readdirSync(facts['vps-tmp']!).filter((name) => name.includes('secret'));
  if (uploads.length > 0 && !options.killed) throw new Error(`${label}: a temp secret was left on the VPS: ${uploads.join(', ')}`);
  const credentials = await readControl<Array<{ keyId: string }>>(facts, '/tenant/credentials');
  if (credentials.length === 0) throw new Error(`${label}: the tenant has no secret`);
  const monitor = await readControl<{ bothDead: unknown[]; leaks: unknown[] }>(facts, '/monitor');
  const now = { credentials, bothDead: monitor.bothDead.length, leaks: monitor.leaks.length };
  if (before && now.bothDead !== before.bothDead) throw new Error(`${label}: both-dead windows ${JSON.stringify(monitor.bothDead.slice(before.bothDead))}`);
  if (before && now.leaks !== before.leaks) throw new Error(`${label}: leaks ${JSON.stringify(monitor.leaks.slice(before.leaks))}`);
  return now;
}
