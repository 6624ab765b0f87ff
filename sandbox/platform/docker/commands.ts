/**
 * The subset of the Docker CLI the runbook uses (`compose up`, `ps`, `exec`, `logs`, `cp`, `inspect`), over the
 * sandbox's docker daemon, written against a `DockerHost`: the daemon runs these itself for the VPS's `docker` (which
 * then only prints what they printed, or starts what `exec` asks for), and the Node program (cli.ts) runs them for
 * `docker logs --follow`, which streams.
 */
import { cpSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { humanDuration, parseSince } from './humanize.ts';
import type { ComposeUpResult, ContainerView, ExecSpec, LogLine } from './types.ts';

/** A failure docker itself reports in these words (printed as is, exit 1): not the runbook CLI's usage errors. */
export class DockerError extends Error {}

export const CANNOT_CONNECT = 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';
export const PERMISSION_DENIED = 'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock';

/** What `docker exec` starts: a command in the container's folder with the container's environment. */
export interface ExecRequest {
  /** The command and its words, container paths already mapped to this machine's. */
  command: string[];
  cwd: string;
  env: Record<string, string>;
  /** `-e NAME` given without a value: the client's own value of NAME goes in, if it has one. */
  fromClient: string[];
}

/** Where a command's requests go, where its output goes, and how a container command is started. */
export interface DockerHost {
  /** The client's working directory: relative paths (`-f compose.yml`, `docker cp ./x`) are the client's. */
  cwd: string;
  api<T>(path: string, init?: { method: string; body: unknown }): Promise<{ status: number; body: T }>;
  /** A streamed answer, line by line, until the daemon ends it (`docker logs --follow`). */
  follow(path: string, onLine: (line: LogLine) => void): Promise<void>;
  out(text: string): void;
  err(text: string): void;
  /** Starts the command and resolves with its exit status. */
  exec(request: ExecRequest): Promise<number>;
}

/** Runs `docker ARGV...` on `host`: the exit status; what docker itself would print on failure goes to `host.err`. */
export async function runDocker(host: DockerHost, argv: string[]): Promise<number> {
  try {
    return await main(host, argv);
  } catch (err) {
    host.err(`${err instanceof DockerError ? err.message : `docker: ${(err as Error).message}`}\n`);
    return 1;
  }
}

async function container(host: DockerHost, name: string): Promise<ExecSpec> {
  const { status, body } = await host.api<ExecSpec & { error?: string }>(`/containers/${encodeURIComponent(name)}`);
  if (status !== 200) throw new DockerError(`Error response from daemon: No such container: ${name}`);
  return body;
}

/** Paths inside a container live under its root folder on this machine. */
function hostPath(root: string, p: string): string {
  return p.startsWith('/') ? join(root, p) : join(root, 'app', p);
}

/** Maps container paths in command words (`/tmp/x.py`, `/app`) to the container's folder, as the mount namespace would. */
function mapWord(root: string, word: string): string {
  return word.replace(/(^|[=:])(\/(?:tmp|app|root)(?:\/[^\s:]*)?)/g, (_m, pre: string, p: string) => pre + join(root, p));
}

async function compose(host: DockerHost, args: string[]): Promise<number> {
  let file = 'docker-compose.yml';
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-f' || a === '--file') file = args[++i]!;
    else if (a === '--env-file' || a === '-p' || a === '--project-name') i++; // interpolation only; env_file is what services get
    else break;
  }
  const sub = args[i];
  if (sub !== 'up') throw new DockerError(`docker compose ${sub ?? ''}: not supported by the sandbox (only "up")`);
  const services: string[] = [];
  let forceRecreate = false;
  let wait = false;
  let waitTimeoutSeconds: number | undefined;
  const rest = args.slice(i + 1);
  for (let j = 0; j < rest.length; j++) {
    const a = rest[j]!;
    if (a === '--force-recreate') forceRecreate = true;
    else if (a === '--wait') wait = true;
    else if (a === '--wait-timeout' || a.startsWith('--wait-timeout=')) {
      const value = a.includes('=') ? a.slice(a.indexOf('=') + 1) : rest[++j];
      if (!value || !/^\d+$/.test(value)) throw new DockerError(`invalid argument "${value ?? ''}" for "--wait-timeout" flag: strconv.ParseInt: parsing "${value ?? ''}": invalid syntax`);
      waitTimeoutSeconds = Number(value);
    }
    else if (a === '-d' || a === '--detach' || a === '--no-deps' || a === '--remove-orphans') continue;
    else if (a === '--build') continue;
    else if (a.startsWith('-')) throw new DockerError(`unknown flag: ${a}`);
    else services.push(a);
  }
  const composeFile = resolve(host.cwd, file);
  if (!existsSync(composeFile)) throw new DockerError(`open ${composeFile}: no such file or directory`);
  const { body } = await host.api<ComposeUpResult>('/compose/up', { method: 'POST', body: { composeFile, services, forceRecreate, wait, waitTimeoutSeconds } });
  for (const line of body.progress) host.err(`${line}\n`);
  if (body.error) { host.err(`${body.error}\n`); return 1; }
  return 0;
}

function status(c: ContainerView, now: number): string {
  if (c.state === 'exited') return `Exited (${c.exitCode}) ${humanDuration(now - (c.finishedAt ?? now))} ago`;
  const health = c.health === 'none' ? '' : c.health === 'starting' ? ' (health: starting)' : ` (${c.health})`;
  return `Up ${humanDuration(now - c.startedAt)}${health}`;
}

async function ps(host: DockerHost, args: string[]): Promise<number> {
  const names: string[] = [];
  let format: string | undefined;
  let all = false;
  let quiet = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--filter' || a === '-f') {
      const [k, v] = args[++i]!.split(/=(.*)/s);
      if (k !== 'name') throw new DockerError(`the sandbox supports only name filters, got ${k}`);
      names.push(v ?? '');
    } else if (a === '--format') format = args[++i];
    else if (a === '-a' || a === '--all') all = true;
    else if (a === '-q' || a === '--quiet') quiet = true;
    else if (a === '--no-trunc') continue;
    else throw new DockerError(`unknown flag: ${a}`);
  }
  const [{ body: list }, { body: clock }] = await Promise.all([
    host.api<ContainerView[]>('/containers'), host.api<{ now: number }>('/clock'),
  ]);
  const shown = list
    .filter((c) => all || c.state === 'running')
    .filter((c) => !names.length || names.some((n) => new RegExp(n).test(c.name)))
    .sort((a, b) => b.createdAt - a.createdAt);
  const fields = (c: ContainerView): Record<string, string> => ({
    ID: c.id.slice(0, 12), Names: c.name, Image: c.image, Command: c.command, State: c.state,
    Status: status(c, clock.now), CreatedAt: new Date(c.createdAt).toISOString(),
    RunningFor: `${humanDuration(clock.now - c.createdAt)} ago`,
    Ports: c.port ? `127.0.0.1:${c.port}->${c.port}/tcp` : '',
  });
  if (quiet) { for (const c of shown) host.out(`${c.id.slice(0, 12)}\n`); return 0; }
  if (format) {
    // Docker turns the two-character `\t` / `\n` of a shell-quoted format into the real characters.
    const tpl = format.replace(/^table\s+/, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n');
    for (const c of shown) {
      const f = fields(c);
      host.out(`${tpl.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_m, k: string) => f[k] ?? '')}\n`);
    }
    return 0;
  }
  const rows = [['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
    ...shown.map((c) => { const f = fields(c); return [f.ID!, f.Image!, f.Command!, f.RunningFor!, f.Status!, f.Ports!, f.Names!]; })];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) host.out(`${r.map((v, i) => (i < r.length - 1 ? v.padEnd(widths[i]! + 3) : v)).join('')}\n`);
  return 0;
}

async function exec(host: DockerHost, args: string[]): Promise<number> {
  const extra: Record<string, string> = {};
  /** `-e NAME` without a value: the client's own NAME, if it has one. */
  const fromClient: string[] = [];
  let workdir: string | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-e' || a === '--env') {
      const [k, v] = args[++i]!.split(/=(.*)/s);
      if (v === undefined) fromClient.push(k!);
      else extra[k!] = v;
    } else if (a === '-w' || a === '--workdir') workdir = args[++i];
    else if (a === '-u' || a === '--user') i++;
    else if (/^-[it]+$/.test(a) || a === '--interactive' || a === '--tty') continue;
    else break;
  }
  const name = args[i];
  const cmd = args.slice(i + 1);
  if (!name || !cmd.length) throw new DockerError('"docker exec" requires at least 2 arguments.');
  const { container: c, env } = await container(host, name);
  if (c.state !== 'running') throw new DockerError(`Error response from daemon: container ${c.id} is not running`);
  const mappedEnv = Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, mapWord(c.root, v)]));
  // PYTHONPATH=/app from the operator is added to (not instead of) what the image itself puts on the path.
  if (mappedEnv.PYTHONPATH && env.PYTHONPATH) mappedEnv.PYTHONPATH = `${mappedEnv.PYTHONPATH}:${env.PYTHONPATH}`;
  return host.exec({
    command: cmd.map((w, n) => (n === 0 ? w : mapWord(c.root, w))),
    cwd: workdir ? hostPath(c.root, workdir) : join(c.root, 'app'),
    env: { ...env, ...mappedEnv },
    fromClient,
  });
}

async function logs(host: DockerHost, args: string[]): Promise<number> {
  let since: string | undefined;
  let timestamps = false;
  let tail: number | undefined;
  let follow = false;
  let name: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--since') since = args[++i];
    else if (a.startsWith('--since=')) since = a.slice(8);
    else if (a === '-t' || a === '--timestamps') timestamps = true;
    else if (a === '-n' || a === '--tail') tail = Number(args[++i]);
    else if (a === '-f' || a === '--follow') follow = true;
    else if (a.startsWith('-')) throw new DockerError(`unknown flag: ${a}`);
    else name = a;
  }
  if (!name) throw new DockerError('"docker logs" requires exactly 1 argument.');
  const { container: c } = await container(host, name);
  const print = (l: LogLine) => {
    const text = `${timestamps ? `${new Date(l.t).toISOString()} ` : ''}${l.line}\n`;
    if (l.stream === 'stdout') host.out(text);
    else host.err(text);
  };
  if (follow) {
    const { body: clock } = await host.api<{ now: number }>('/clock');
    const from = since === undefined ? -Infinity : parseSince(since, clock.now);
    if (from === undefined) throw new DockerError(`invalid value for "since": ${since}`);
    await host.follow(`/containers/${encodeURIComponent(c.name)}/logs?follow=1&since=${from}`, print);
    return 0;
  }
  const [{ body: lines }, { body: clock }] = await Promise.all([
    host.api<LogLine[]>(`/containers/${encodeURIComponent(c.name)}/logs`), host.api<{ now: number }>('/clock'),
  ]);
  const from = since === undefined ? -Infinity : parseSince(since, clock.now);
  if (from === undefined) throw new DockerError(`invalid value for "since": ${since}`);
  let shown = lines.filter((l) => l.t >= from);
  if (tail !== undefined && tail >= 0) shown = shown.slice(-tail);
  for (const l of shown) print(l);
  return 0;
}

async function cp(host: DockerHost, args: string[]): Promise<number> {
  const [src, dest] = args.filter((a) => !a.startsWith('-'));
  if (!src || !dest) throw new DockerError('"docker cp" requires exactly 2 arguments.');
  const side = async (p: string): Promise<string> => {
    const m = /^([^/:][^:]*):(.*)$/.exec(p);
    if (!m) return resolve(host.cwd, p);
    const { container: c } = await container(host, m[1]!);
    return hostPath(c.root, m[2]!);
  };
  const from = await side(src);
  let to = await side(dest);
  if (!existsSync(from)) throw new DockerError(`lstat ${src}: no such file or directory`);
  if (existsSync(to) && statSync(to).isDirectory()) to = join(to, basename(from));
  if (!existsSync(dirname(to))) throw new DockerError(`Error response from daemon: Could not find the file ${dirname(dest)} in container`);
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true });
  host.err(`Successfully copied ${statSync(to).size}B to ${dest}\n`);
  return 0;
}

async function inspect(host: DockerHost, args: string[]): Promise<number> {
  let format: string | undefined;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-f' || args[i] === '--format') format = args[++i];
    else names.push(args[i]!);
  }
  const out = [];
  for (const n of names) {
    const { container: c } = await container(host, n);
    const doc = {
      Id: c.id, Name: `/${c.name}`,
      State: {
        Status: c.state, Running: c.state === 'running', Pid: c.pid, ExitCode: c.exitCode ?? 0,
        StartedAt: new Date(c.startedAt).toISOString(),
        FinishedAt: c.finishedAt ? new Date(c.finishedAt).toISOString() : '0001-01-01T00:00:00Z',
        ...(c.health !== 'none' ? { Health: { Status: c.health } } : {}),
      },
      Config: { Image: c.image },
    };
    if (format) {
      host.out(`${format.replace(/\{\{\s*((?:\.\w+)+)\s*\}\}/g, (_m, path: string) => {
        let v: unknown = doc;
        for (const k of path.split('.').filter(Boolean)) v = (v as Record<string, unknown> | undefined)?.[k];
        return v === undefined ? '<no value>' : String(v);
      })}\n`);
    } else out.push(doc);
  }
  if (!format) host.out(`${JSON.stringify(out, null, 4)}\n`);
  return 0;
}

async function main(host: DockerHost, argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'compose': return compose(host, rest);
    case 'ps': return ps(host, rest);
    case 'exec': return exec(host, rest);
    case 'logs': return logs(host, rest);
    case 'cp': return cp(host, rest);
    case 'inspect': return inspect(host, rest);
    case 'container': return rest[0] === 'ls' ? ps(host, rest.slice(1)) : main(host, rest);
    default:
      throw new DockerError(`docker: '${cmd ?? ''}' is not a docker command supported by the sandbox.`);
  }
}

