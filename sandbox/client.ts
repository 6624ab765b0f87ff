import { readFileSync } from 'node:fs';
import { createFetch } from '../common/net/tls.ts';

/**
 * Calls a sandbox's control API (`facts.control`), trusting it through its CA file (`facts['ca-file']`) as every
 * client of the sandbox does: the CLI, the tests, the browser replay.
 */
export function controlRequest(facts: Readonly<Record<string, string | undefined>>, method: string, path: string, body?: unknown): Promise<Response> {
  return createFetch(readFileSync(facts['ca-file']!, 'utf8'))(`${facts['control']}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
}
