import { readFileSync } from 'node:fs';
import { createFetch } from '../common/net/tls.ts';
import { credentialHeaders } from './credential.ts';

/**
 * Calls a sandbox's control API (`facts.control`), trusting it through its CA file (`facts['ca-file']`) and
 * authenticated by its credential file (`facts['credential-file']`) as every client of the sandbox is: the CLI, the
 * tests, the browser replay.
 */
export function controlRequest(facts: Readonly<Record<string, string | undefined>>, method: string, path: string, body?: unknown): Promise<Response> {
  return createFetch(readFileSync(facts['ca-file']!, 'utf8'))(`${facts['control']}${path}`, {
    method,
    headers: { ...credentialHeaders(facts), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}
