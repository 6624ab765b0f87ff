/** `GraphConfig.from_env()` of graph_client.py: the env var contract the runbook documents. */
export interface GraphConfig {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  authorityHost: string;
  baseUrl: string;
}

const REQUIRED = ['MICROSOFT_GRAPH_TENANT_ID', 'MICROSOFT_GRAPH_CLIENT_ID', 'MICROSOFT_GRAPH_CLIENT_SECRET'] as const;

export class GraphNotConfigured extends Error {
  constructor(readonly missing: string[]) {
    super(`Microsoft Graph not configured. Missing env vars: ${missing.join(', ')}`);
  }
}

export function graphConfigFromEnv(env: NodeJS.ProcessEnv): GraphConfig {
  const missing = REQUIRED.filter((k) => !(env[k] ?? '').trim());
  if (missing.length) throw new GraphNotConfigured([...missing]);
  return {
    tenantId: env.MICROSOFT_GRAPH_TENANT_ID!.trim(),
    clientId: env.MICROSOFT_GRAPH_CLIENT_ID!.trim(),
    clientSecret: env.MICROSOFT_GRAPH_CLIENT_SECRET!.trim(),
    authorityHost: (env.MICROSOFT_GRAPH_AUTHORITY_HOST ?? '').trim() || 'https://login.microsoftonline.com',
    baseUrl: (env.MICROSOFT_GRAPH_BASE_URL ?? '').trim() || 'https://graph.microsoft.com/v1.0',
  };
}

/** What the Python service prints when from_env() raises at import time, so the runbook can grep the same text. */
export function pythonTraceback(err: GraphNotConfigured, entry: string): string {
  return [
    'Traceback (most recent call last):',
    `  File "/app/src/${entry}.py", line 14, in <module>`,
    '    graph_config = GraphConfig.from_env()',
    '  File "/app/src/services/agent_identity/graph_client.py", line 52, in from_env',
    '    raise RuntimeError(',
    `RuntimeError: ${err.message}`,
  ].join('\n');
}
