import type { FetchOptions } from '@microsoft/microsoft-graph-client';
import { createAgent } from './tls.ts';

/**
 * `fetchOptions` for a Microsoft Graph client that must trust `caPem` (the sandbox's CA) in addition to the default
 * roots. The Graph client calls the global fetch with these options; undici's `dispatcher` is how a per-client trust
 * store is passed to it. With no CA it is empty: production keeps the platform's default trust.
 */
export function createGraphFetchOptions(caPem?: string): FetchOptions {
  if (!caPem) return {};
  // `dispatcher` is an undici extension of RequestInit that the Graph client's FetchOptions type does not list.
  return { dispatcher: createAgent(caPem) } as FetchOptions;
}
