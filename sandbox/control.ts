import { Hono, type MiddlewareHandler } from 'hono';
import { parseClockDuration } from './clock.ts';
import type { IncomingMessage } from 'node:http';
import { carriesCredential, CREDENTIAL_COOKIE } from './credential.ts';
import { isTunneled } from './listen.ts';
import type { MutableSandboxContext } from './context.ts';
import type { ControlRoute, FaultSpec } from './types.ts';

export const CONTROL_PREFIX = '/_sandbox';

/**
 * Refuses (401) a request without the sandbox's credential: a bearer header (the runner, the CLI, curl `-H @FILE`),
 * the cookie a browser may be given, or the browser proxy's tunnel (whose opener gave the credential to the proxy).
 * The answer says what is missing, never what would be right.
 */
export function requireCredential(token: string): MiddlewareHandler {
  return async (c, next) => {
    if (isTunneled((c.env as { incoming?: IncomingMessage } | undefined)?.incoming)) return next();
    if (carriesCredential(token, c.req.header('authorization'), c.req.header('cookie'))) return next();
    c.header('www-authenticate', 'Bearer realm="runbook-sandbox"');
    return c.json({ error: `Unexpected request without the sandbox credential, expected an Authorization: Bearer header or the ${CREDENTIAL_COOKIE} cookie (the credential-file fact)` }, 401);
  };
}

/**
 * The loopback control API: `/_sandbox/...` requests are offered to every registered ControlRoute in order with the
 * request's full pathname (e.g. `/_sandbox/clock/advance`) and its JSON body; the first answer wins.
 */
export function controlApp(context: MutableSandboxContext): Hono {
  const app = new Hono();
  app.all(`${CONTROL_PREFIX}/*`, async (c) => {
    const text = c.req.method === 'GET' || c.req.method === 'HEAD' ? '' : await c.req.text();
    let body: unknown;
    // Plain text stays text (what `pbcopy` is given on stdin, as `curl --data-binary @-` sends it); the rest is JSON.
    if (c.req.header('content-type')?.startsWith('text/plain')) body = text;
    else {
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        return c.json({ error: 'Unexpected request body, expected JSON' }, 400);
      }
    }
    const request = { method: c.req.method, path: c.req.path, body, query: c.req.query() };
    for (const route of context.controlRoutes) {
      try {
        const answer = await route(request);
        if (!answer) continue;
        if (typeof answer.body === 'string') return c.text(answer.body, answer.status as 200);
        if (answer.body === undefined) return c.body(null, answer.status as 204);
        return c.json(answer.body, answer.status as 200);
      } catch (error) {
        return c.json({ error: error instanceof Error ? error.message : String(error) }, 400);
      }
    }
    return c.json({ error: `Unexpected control route ${c.req.method} ${c.req.path}` }, 404);
  });
  return app;
}

function asFaultSpec(body: unknown): FaultSpec {
  const input = (body ?? {}) as { kind?: unknown; count?: unknown; status?: unknown; retryAfter?: unknown; params?: unknown };
  if (typeof input.kind !== 'string' || !input.kind) throw new Error('Unexpected fault without "kind", expected e.g. {"kind":"token","status":429}');
  const params: Record<string, string | number | boolean> = { ...((input.params as Record<string, string | number | boolean>) ?? {}) };
  const number = (name: string, value: unknown) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new Error(`Unexpected fault ${name} ${JSON.stringify(value)}, expected a number`);
    return parsed;
  };
  if (input.status !== undefined) params.status = number('status', input.status);
  if (input.retryAfter !== undefined) params.retryAfter = number('retryAfter', input.retryAfter);
  return { kind: input.kind, count: input.count === undefined ? 1 : Number(input.count), ...(Object.keys(params).length ? { params } : {}) };
}

/** The lifecycle's own routes: facts and status, the clock, faults and the clipboard. */
export function coreControlRoutes(context: MutableSandboxContext): ControlRoute {
  const clockState = () => ({ now: new Date(context.clock.now()).toISOString(), offsetMs: context.clock.now() - Date.now() });
  return async ({ method, path, body }) => {
    const route = `${method} ${path.slice(CONTROL_PREFIX.length) || '/'}`;
    switch (route) {
      case 'GET /facts':
        return { status: 200, body: context.facts };
      case 'GET /status':
        return { status: 200, body: { pid: process.pid, facts: context.facts, clock: clockState(), faults: context.faults.list() } };
      case 'GET /clock':
        return { status: 200, body: clockState() };
      case 'POST /clock/advance': {
        const input = (body ?? {}) as { duration?: unknown; ms?: unknown };
        const ms = typeof input.ms === 'number' ? input.ms : parseClockDuration(String(input.duration ?? ''));
        context.clock.advance(ms);
        context.log.write('control', `clock advanced by ${ms}ms`);
        return { status: 200, body: clockState() };
      }
      case 'GET /faults':
        return { status: 200, body: context.faults.list() };
      case 'POST /faults': {
        const spec = asFaultSpec(body);
        context.faults.inject(spec);
        context.log.write('control', `fault armed kind=${spec.kind} count=${spec.count}`);
        return { status: 200, body: context.faults.list() };
      }
      case 'DELETE /faults':
        context.faults.clear();
        return { status: 200, body: [] };
      case 'GET /clipboard':
        // Plain text, like pbpaste: the capture step pipes it straight into a file.
        return { status: 200, body: context.clipboard.read() };
      case 'DELETE /clipboard':
        // What `pbcopy < /dev/null` does: once the capture step has the value in its file, the clipboard lets go of it.
        context.clipboard.write('');
        context.log.write('control', 'clipboard cleared');
        return { status: 204, body: undefined };
      case 'POST /clipboard': {
        // The bytes as they are (text/plain, as a copy command pipes them), or {"text": ...}.
        const text = typeof body === 'string' ? body : (body as { text?: unknown } | undefined)?.text;
        if (typeof text !== 'string') throw new Error('Unexpected clipboard body, expected plain text or {"text": "..."}');
        context.clipboard.write(text);
        return { status: 204, body: undefined };
      }
      default:
        return undefined;
    }
  };
}
