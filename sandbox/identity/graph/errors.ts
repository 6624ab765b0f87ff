/** Microsoft Graph's error envelope: `{error: {code, message, innerError: {date, request-id, client-request-id}}}`. */
export interface GraphErrorBody {
  error: { code: string; message: string; innerError: { date: string; 'request-id': string; 'client-request-id': string } };
}

export class GraphFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function graphErrorBody(code: string, message: string, requestId: string, clientRequestId: string, nowMs: number): GraphErrorBody {
  return {
    error: {
      code,
      message,
      // Graph writes the date without fraction or zone.
      innerError: { date: new Date(nowMs).toISOString().slice(0, 19), 'request-id': requestId, 'client-request-id': clientRequestId },
    },
  };
}

export const notFound = (id: string): GraphFailure =>
  new GraphFailure(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);

export const badRequest = (message: string, code = 'BadRequest'): GraphFailure => new GraphFailure(400, code, message);
