/**
 * Requests between the sandbox's own parts, on loopback: the container runtime's health probes, the containers' calls
 * to the docker daemon, the VPS's `docker`, Graph's notifications to the backend. All of them are `node:https` (or
 * `node:http` for a plain-http test listener) rather than `fetch`: fetch boots an HTTP client of its own on first use,
 * hundreds of milliseconds of CPU in every short-lived process, and the undici package in the sandbox's. Trust comes
 * from an agent made once per CA (`loopbackAgent`; a dispatcher handed a `ca` builds a TLS context per connection), or
 * in a container and the VPS's `docker` from NODE_EXTRA_CA_CERTS, which names the sandbox's CA there.
 */
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';

export interface LoopbackAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

export interface LoopbackInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Gives up (rejects) after this long without a whole answer. */
  timeoutMs?: number;
  /** How the server is trusted (`loopbackAgent`); default: Node's roots and NODE_EXTRA_CA_CERTS. */
  agent?: Agent;
}

const contexts = new Map<string, SecureContext>();

/**
 * A TLS context that trusts the sandbox's CA (a PEM) and nothing else, or with `defaultRoots` Node's roots besides
 * (Graph calling a listener anywhere); built once, not at every connection.
 */
export function sandboxTrust(caPem: string, defaultRoots = false): SecureContext {
  const key = `${defaultRoots}\n${caPem}`;
  let context = contexts.get(key);
  if (!context) {
    context = createSecureContext({ ca: defaultRoots ? [...rootCertificates, caPem] : caPem });
    contexts.set(key, context);
  }
  return context;
}

/**
 * An agent that trusts the sandbox's CA (and with `defaultRoots` Node's roots too). `keepAlive` is for a caller that
 * asks often (a health probe every 400 ms reuses one connection); others connect afresh each time, so a request never
 * goes out on a connection the server is just closing.
 */
export function loopbackAgent(caPem: string, { keepAlive = false, defaultRoots = false } = {}): Agent {
  return new Agent({ keepAlive, secureContext: sandboxTrust(caPem, defaultRoots) } as ConstructorParameters<typeof Agent>[0]);
}

/** What a request rejects with when `timeoutMs` passes first (the name fetch gives it under AbortSignal.timeout). */
export class LoopbackTimeout extends Error {
  override readonly name = 'TimeoutError';
}

/** `node:https`, or `node:http` for a plain-http URL (a test's listener); the agent's trust applies to https only. */
function request(url: string | URL, init: LoopbackInit, onResponse: (res: IncomingMessage) => void): ClientRequest {
  const options = { method: init.method ?? 'GET', headers: init.headers ?? {} };
  if (new URL(url).protocol === 'http:') return httpRequest(url, options, onResponse);
  return httpsRequest(url, { ...options, ...(init.agent ? { agent: init.agent } : {}) }, onResponse);
}

/** One request, its whole answer as text. Rejects on a transport failure or after `timeoutMs`. */
export function loopbackRequest(url: string | URL, init: LoopbackInit = {}): Promise<LoopbackAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, init, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', fail);
    });
    const timer = init.timeoutMs === undefined ? undefined : setTimeout(() => req.destroy(new LoopbackTimeout(`no answer from ${String(url)} in ${init.timeoutMs} ms`)), init.timeoutMs);
    function fail(error: Error): void {
      clearTimeout(timer);
      reject(error);
    }
    req.on('error', fail);
    req.end(init.body);
  });
}

/**
 * A streamed answer, one JSON value a line, handed to `onLine` as it arrives. Resolves with the status when the server
 * ends the stream (or at once for a status other than 200, without reading it); rejects when the connection fails or
 * breaks, which for a stream the sandbox holds open means the sandbox is gone.
 */
export function loopbackLines<T>(url: string | URL, init: LoopbackInit, onLine: (value: T) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, init, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        resolve(res.statusCode ?? 0);
        return;
      }
      let partial = '';
      res.on('data', (chunk: Buffer) => {
        const parts = (partial + chunk.toString('utf8')).split('\n');
        partial = parts.pop() ?? '';
        for (const part of parts) if (part) onLine(JSON.parse(part) as T);
      });
      res.on('end', () => resolve(200));
      // A connection reset mid-stream (the sandbox killed) is an `aborted` response, then a `close` without `end`.
      res.on('aborted', () => reject(new Error('stream aborted')));
      res.on('close', () => { if (!res.complete) reject(new Error('stream closed')); });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** The answer as a WHATWG Response, for callers written against fetch. */
export function asResponse(answer: LoopbackAnswer): Response {
  const headers = new Headers();
  for (const [key, value] of Object.entries(answer.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(key, v);
  }
  // A null-body status (204, 304) may not carry a body, even an empty one.
  const nullBody = answer.status === 204 || answer.status === 304 || answer.status < 200;
  return new Response(nullBody ? null : answer.text, { status: answer.status, headers });
}
