import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';

/**
 * Extra trust is added, never substituted: production keeps Node's default roots and the sandbox's CA (a PEM the
 * caller read from the sandbox's `ca-file`) is appended. Verification is never turned off.
 */
export function trustedCertificates(caPem?: string): string[] {
  return caPem ? [...rootCertificates, caPem] : [...rootCertificates];
}

const contexts = new Map<string, SecureContext>();

/**
 * The TLS context that verifies against the default roots plus `caPem`, built once per CA in a thread. Handing `ca`
 * to each connection instead parses all ~140 roots again on every handshake: it was most of a run's CPU in TLS.
 */
export function trustContext(caPem: string): SecureContext {
  let context = contexts.get(caPem);
  if (!context) {
    context = createSecureContext({ ca: trustedCertificates(caPem) });
    contexts.set(caPem, context);
  }
  return context;
}

/** An undici dispatcher that verifies servers against the default roots plus `caPem`. */
export function createAgent(caPem: string): Agent {
  return new Agent({ connect: { secureContext: trustContext(caPem) } });
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
