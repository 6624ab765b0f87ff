import { ConfidentialClientApplication, LogLevel } from '@azure/msal-node';
import { msalNetworkClient } from '../../../common/net/msal-network.ts';
import { loopbackRequest } from '../../loopback.ts';
import type { GraphConfig } from './config.ts';
import { log } from './log.ts';

const GRAPH_SCOPE = ['https://graph.microsoft.com/.default'];

/** Token acquisition or a Graph call failed; `code` is what the runbook greps for (401 invalid_client ...). */
export class GraphError extends Error {
  constructor(readonly status: number, readonly code: string, detail = '') {
    super(`${status} ${code}${detail ? ` ${detail}` : ''}`);
  }
}

/**
 * msal-node's network client over `node:https`, which msal otherwise does with fetch: fetch boots an HTTP client of
 * its own, a good part of a backend's start. Trust is the container's (NODE_EXTRA_CA_CERTS).
 */
const networkClient = msalNetworkClient(async (url, request) => {
  const res = await loopbackRequest(url, request);
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(res.headers)) if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
  return { status: res.status, headers, text: res.text };
});

/**
 * `GraphClient` of graph_client.py: MSAL client credentials (`_get_access_token`) and bearer calls to Graph.
 * TLS trust for the sandbox comes from NODE_EXTRA_CA_CERTS, as the real containers' would from their CA bundle.
 */
export class GraphClient {
  private readonly app: ConfidentialClientApplication;

  constructor(private readonly config: GraphConfig) {
    const host = new URL(config.authorityHost);
    this.app = new ConfidentialClientApplication({
      auth: {
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        authority: `${host.origin}${host.pathname.replace(/\/$/, '')}/${config.tenantId}`,
        // A non-Microsoft host must be declared, or MSAL asks login.microsoftonline.com whether it is one.
        knownAuthorities: [host.host],
      },
      system: { networkClient, loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => undefined } },
    });
  }

  async accessToken(): Promise<string> {
    try {
      const result = await this.app.acquireTokenByClientCredential({ scopes: GRAPH_SCOPE });
      if (!result?.accessToken) throw new GraphError(401, 'invalid_client', 'no token');
      return result.accessToken;
    } catch (err) {
      if (err instanceof GraphError) throw err;
      const e = err as { errorCode?: string; errorMessage?: string; status?: number; message?: string };
      // Only the error code and the AADSTS number: the description can echo request details, never worth the risk.
      const aadsts = /AADSTS\d+/.exec(e.errorMessage ?? e.message ?? '')?.[0] ?? '';
      throw new GraphError(e.status ?? 401, e.errorCode || 'token_error', aadsts);
    }
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = `${this.config.baseUrl.replace(/\/$/, '')}/${path.replace(/^\//, '')}`;
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken();
      const res = await loopbackRequest(url, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      // Graph throttling: honour Retry-After (capped: the sandbox should not stall a test for minutes).
      if ((res.status === 429 || res.status === 503) && attempt < 3) {
        const wait = Math.min(Number(res.headers['retry-after'] ?? '1') || 1, 5);
        log('WARNING', 'graph_client', `graph_request ${method} ${path} status=${res.status} retry_after=${wait}s`);
        await new Promise((r) => setTimeout(r, wait * 1000));
        continue;
      }
      if (res.status < 200 || res.status >= 300) {
        const text = res.text;
        let code = 'error';
        try { code = (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? code; } catch { /* not JSON */ }
        throw new GraphError(res.status, code);
      }
      if (res.status === 202 || res.status === 204) return undefined as T;
      return (res.text ? JSON.parse(res.text) : undefined) as T;
    }
  }
}
