import { randomUUID } from 'node:crypto';

/** The token endpoint's error shapes, as Entra ID answers them (JSON body, AADSTS code inside the description). */
export interface AadErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

export interface AadError {
  status: number;
  body: AadErrorBody;
  /** Only throttling carries Retry-After: msal-node caches a throttle for any token error that has one. */
  retryAfterSeconds?: number;
}

/** `2023-05-06 06:03:00Z`: Entra's timestamp format in token errors. */
export function aadTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function aadError(input: {
  status: number;
  error: string;
  code: number;
  message: string;
  nowMs: number;
  correlationId?: string | undefined;
  errorUriBase: string;
  retryAfterSeconds?: number;
}): AadError {
  const traceId = randomUUID();
  const correlationId = input.correlationId || randomUUID();
  const timestamp = aadTimestamp(input.nowMs);
  return {
    status: input.status,
    ...(input.retryAfterSeconds !== undefined ? { retryAfterSeconds: input.retryAfterSeconds } : {}),
    body: {
      error: input.error,
      error_description: `AADSTS${input.code}: ${input.message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [input.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${input.errorUriBase}/error?code=${input.code}`,
    },
  };
}

/** Message texts of the errors the sandbox reproduces, worded as Entra words them. */
export const AADSTS = {
  wrongSecret: (appId: string) =>
    `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${appId}'.`,
  expiredSecret: (appId: string) =>
    `The provided client secret keys for app '${appId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
  unknownApp: (appId: string, tenant: string) =>
    `Application with identifier '${appId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  missingParameter: (name: string) => `The request body must contain the following parameter: '${name}'.`,
  missingCredential: () => `The request body must contain the following parameter: 'client_assertion' or 'client_secret'.`,
  unsupportedGrant: (grant: string) => `The provided request must include a 'grant_type' input parameter. Grant type '${grant}' is not supported.`,
  invalidScope: (scope: string) =>
    `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
  tenantNotFound: (tenant: string) =>
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  throttled: () => 'There are too many incoming requests. Please try again later.',
  transient: () => 'A transient error has occurred. Please try again.',
} as const;
