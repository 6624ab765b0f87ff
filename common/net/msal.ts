import type { INetworkModule } from '@azure/msal-node';
import { msalNetworkClient } from './msal-network.ts';
import { createFetch } from './tls.ts';

/**
 * msal-node's own HTTP client uses the global fetch and so only the default trust store. This network module does
 * the same requests through a fetch that also trusts `caPem` (the sandbox's CA); with no CA it behaves like msal's.
 * Pass it as `system.networkClient`.
 */
export function createMsalNetworkClient(caPem?: string): INetworkModule {
  const fetchWithTrust = createFetch(caPem);
  return msalNetworkClient(async (url, { method, headers, body, timeoutMs }) => {
    const response = await fetchWithTrust(url, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
    });
    const answerHeaders: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      answerHeaders[key] = value;
    });
    return { status: response.status, headers: answerHeaders, text: await response.text() };
  });
}
