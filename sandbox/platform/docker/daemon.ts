import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { carriesCredential } from '../../credential.ts';
import type { AddressInfo } from 'node:net';
import type { FaultSpec } from '../../types.ts';
import { shellScript, type CliOutput } from './cli-script.ts';
import { DockerError, runDocker, type DockerHost, type ExecRequest } from './commands.ts';
import { readCompose } from './compose.ts';
import { BACKEND_SERVICES, type ContainerRuntime } from './containers.ts';
import type { ComposeUpRequest, ComposeUpResult, ContainerView, ExecSpec, LogLine } from './types.ts';

export interface DaemonOptions {
  runtime: ContainerRuntime;
  /** The loopback certificate: the daemon serves the containers' environments (the client secret) only over TLS. */
  tls: { certPem: string; keyPem: string };
  /** The sandbox's credential: the `docker` shim and the containers send it; nothing else gets an answer. */
  token: string;
  now(): number;
  /** Called with the new now whenever the sandbox clock is advanced; returns the unsubscribe. */
  onClockAdvance(listener: (now: number) => void): () => void;
  takeFault(kind: string): FaultSpec | undefined;
}

/**
 * The "docker daemon": a loopback HTTPS API, authenticated by the sandbox's credential, the `docker` shim on the VPS and the containers talk to. It owns the
 * container processes (they must live in the sandbox process, not in a short-lived ssh session) and the sandbox clock.
 */
export async function startDaemon(opts: DaemonOptions): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, (req, res) => {
    if (!carriesCredential(opts.token, req.headers.authorization, req.headers.cookie)) {
      send(res, 401, { error: 'Cannot connect to the Docker daemon: permission denied (no sandbox credential)' });
      return;
    }
    handle(opts, req, res).catch((err: Error) => send(res, 500, { error: err.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

async function handle(opts: DaemonOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://daemon');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);

  if (req.method === 'GET' && url.pathname === '/clock/watch') return watchClock(opts, req, res);
  if (req.method === 'GET' && parts[0] === 'containers' && parts[2] === 'logs' && url.searchParams.has('follow')) {
    const found = opts.runtime.get(parts[1] ?? '');
    if (!found) return send(res, 404, { error: `No such container: ${parts[1]}` });
    return followLogs(opts.runtime, found.view, Number(url.searchParams.get('since') ?? '-Infinity'), req, res);
  }
  if (req.method === 'POST' && url.pathname === '/cli') {
    res.writeHead(200, { 'content-type': 'text/x-shellscript' });
    res.end(await cliScript(opts, await rawBody(req)));
    return;
  }
  const body = req.method === 'POST' ? await jsonBody(req) : undefined;
  const answer = await route(opts, req.method ?? 'GET', url, body);
  send(res, answer.status, answer.body);
}

/** The daemon's answers that are one JSON value: for its HTTP clients, and for the commands it runs itself. */
async function route(opts: DaemonOptions, method: string, url: URL, body: unknown): Promise<{ status: number; body: unknown }> {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const { runtime } = opts;
  if (method === 'GET' && url.pathname === '/clock') return { status: 200, body: { now: opts.now() } };
  if (method === 'POST' && url.pathname === '/faults/take') return { status: 200, body: { spec: opts.takeFault((body as { kind: string }).kind) ?? null } };
  if (method === 'POST' && url.pathname === '/compose/up') return { status: 200, body: await composeUp(runtime, body as ComposeUpRequest) };
  if (method === 'GET' && parts[0] === 'containers') {
    if (parts.length === 1) return { status: 200, body: runtime.list() };
    const found = runtime.get(parts[1]!);
    if (!found) return { status: 404, body: { error: `No such container: ${parts[1]}` } };
    if (parts[2] === 'logs') return { status: 200, body: runtime.logs(found.view.name) };
    const spec: ExecSpec = { container: found.view, env: found.env };
    return { status: 200, body: spec };
  }
  return { status: 404, body: { error: `page not found: ${method} ${url.pathname}` } };
}

/**
 * `POST /cli`: a whole `docker ...` command of the VPS's `docker` shim, run here. The body is the client's working
 * directory and its arguments, each ended by a NUL byte; the answer is a shell script the shim evaluates: what the
 * command printed (to stdout and stderr) and its exit status, or for `docker exec` the start of the container command
 * (cli-script.ts). One request per command, so a `docker ps` over SSH costs a curl rather than a Node start.
 */
async function cliScript(opts: DaemonOptions, body: string): Promise<string> {
  const [cwd = '/', ...argv] = body.split('\0').slice(0, -1);
  const output: CliOutput[] = [];
  let started: ExecRequest | undefined;
  const host: DockerHost = {
    cwd,
    api: async <T>(path: string, init?: { method: string; body: unknown }) => {
      const answer = await route(opts, init?.method ?? 'GET', new URL(path, 'http://daemon'), init?.body);
      return { status: answer.status, body: answer.body as T };
    },
    follow: () => Promise.reject(new DockerError('docker logs --follow streams: the shim runs it itself')),
    out: (text) => { output.push({ stream: 'stdout', text }); },
    err: (text) => { output.push({ stream: 'stderr', text }); },
    exec: (request) => {
      started = request;
      return Promise.resolve(0);
    },
  };
  const code = await runDocker(host, argv);
  return shellScript(output, started && code === 0 ? { exec: started } : { code });
}

/** `docker compose up`: the named services of a compose file (all of them when none is named). */
export async function composeUp(runtime: ContainerRuntime, req: ComposeUpRequest): Promise<ComposeUpResult> {
  let compose;
  try {
    compose = readCompose(req.composeFile);
  } catch (err) {
    return { progress: [], error: `open ${req.composeFile}: ${(err as Error).message}` };
  }
  const names = req.services.length ? req.services : [...compose.services.keys()];
  const missing = names.filter((n) => !compose.services.has(n));
  if (missing.length) return { progress: [], error: `no such service: ${missing[0]}` };
  const specs = names.map((n) => compose.services.get(n)!);
  const progress = await runtime.up(specs, req.forceRecreate);
  if (!req.wait) return { progress };
  // As `docker compose up --wait`: on the containers' health events, no polling interval of its own.
  const containers = specs.map((spec) => spec.containerName);
  for (const name of containers) progress.push(` Container ${name}  Waiting`);
  try {
    await runtime.waitHealthy(containers, (req.waitTimeoutSeconds ?? 600) * 1000);
  } catch (err) {
    return { progress, error: `${(err as Error).message}` };
  }
  for (const spec of specs) progress.push(` Container ${spec.containerName}  ${spec.hasHealthcheck || BACKEND_SERVICES.has(spec.service) ? 'Healthy' : 'Running'}`);
  return { progress };
}

/**
 * `docker logs --follow`: the lines since `since`, then each new line as the container writes it, one JSON object a
 * line, until the container stops (as Docker ends the stream) or the reader goes away.
 */
function followLogs(runtime: ContainerRuntime, container: ContainerView, since: number, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  const write = (line: LogLine) => {
    if (line.t >= since) res.write(`${JSON.stringify(line)}\n`);
  };
  for (const line of runtime.logs(container.name)) write(line);
  const unfollow = runtime.followLogs(container.name, write);
  const offStop = runtime.onEvent((e) => {
    if (e.kind === 'stop' && e.name === container.name) end();
  });
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    unfollow();
    offStop();
    res.end();
  };
  req.on('close', end);
  if (container.state !== 'running') end();
}

/**
 * The sandbox clock as a stream for the containers: its now at once, then again at every advance, one JSON object a
 * line, for as long as the sandbox lives. A container needs nothing else from the clock (between advances sandbox time
 * runs with real time), and its end tells the container that the sandbox is gone: the daemon closes it as the sandbox
 * stops, the kernel when the sandbox's process dies.
 */
function watchClock(opts: DaemonOptions, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  // Sent at once, not buffered until the first advance: the container is waiting for its first now.
  res.flushHeaders();
  const push = (now: number) => { res.write(`${JSON.stringify({ now })}\n`); };
  push(opts.now());
  const off = opts.onClockAdvance(push);
  req.on('close', off);
}

async function rawBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const text = await rawBody(req);
  return text ? JSON.parse(text) : {};
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}
