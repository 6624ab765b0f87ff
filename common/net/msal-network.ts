import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';

/** One HTTP exchange as msal-node needs it, over whatever client the caller has. */
export type MsalTransport = (
  url: string,
  request: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; timeoutMs?: number },
) => Promise<{ status: number; headers: Record<string, string>; text: string }>;

/**
 * msal-node's `system.networkClient` over `transport`. Answers are handed to msal as its own client would: a thrown
 * Error for a transport failure, the JSON body, headers and status for everything the server answered.
 */
export function msalNetworkClient(transport: MsalTransport): INetworkModule {
  async function send<T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions, timeoutMs?: number): Promise<NetworkResponse<T>> {
    const answer = await transport(url, {
      method,
      headers: options?.headers ?? {},
      ...(method === 'POST' ? { body: options?.body ?? '' } : {}),
      ...(timeoutMs ? { timeoutMs } : {}),
    });
    let body: T;
    try {
      body = JSON.parse(answer.text) as T;
    } catch {
      throw new Error(`Failed to parse response from ${url} (HTTP ${answer.status}): not JSON`);
    }
    return { headers: answer.headers, body, status: answer.status };
  }

  return {
    sendGetRequestAsync: (url, options, timeout) => send('GET', url, options, timeout),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}
