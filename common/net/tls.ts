import { rootCertificates } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';

/**
 * Extra trust is added, never substituted: production keeps Node's default roots and the sandbox's CA (a PEM the
 * caller read from the sandbox's `ca-file`) is appended. Verification is never turned off.
 */
export function trustedCertificates(caPem?: string): string[] {
  return caPem ? [...rootCertificates, caPem] : [...rootCertificates];
}

/** An undici dispatcher that verifies servers against the default roots plus `caPem`. */
export function createAgent(caPem?: string): Agent {
  return new Agent({ connect: { ca: trustedCertificates(caPem) } });
}

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

/**
 * A `fetch` that trusts `caPem` in addition to the default roots. Without a CA it is the platform's own fetch, so
 * production code paths stay exactly as they were.
 */
export function createFetch(caPem?: string): FetchLike {
  if (!caPem) return (input, init) => fetch(input, init);
  const dispatcher = createAgent(caPem);
  // undici's fetch and the global one share the WHATWG types but not their declarations; the cast is only that.
  return (input, init) => undiciFetch(input, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
}
