import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { createFetch } from './tls.ts';

/**
 * msal-node's own HTTP client uses the global fetch and so only the default trust store. This network module does
 * the same requests through a fetch that also trusts `caPem` (the sandbox's CA); with no CA it behaves like msal's.
 * Pass it as `system.networkClient`. Errors are surfaced as msal does: a thrown Error for transport failures, the
 * JSON body and status for everything the server answered.
 */
export function createMsalNetworkClient(caPem?: string): INetworkModule {
  const fetchWithTrust = createFetch(caPem);

  async function send<T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions, timeoutMs?: number): Promise<NetworkResponse<T>> {
    const signal = timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined;
    const response = await fetchWithTrust(url, {
      method,
      headers: options?.headers ?? {},
      ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
      ...(signal ? { signal } : {}),
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      headers[key] = value;
    });
    const text = await response.text();
    let body: T;
    try {
      body = JSON.parse(text) as T;
    } catch {
      throw new Error(`Failed to parse response from ${url} (HTTP ${response.status}): not JSON`);
    }
    return { headers, body, status: response.status };
  }

  return {
    sendGetRequestAsync: (url, options, timeout) => send('GET', url, options, timeout),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}
