import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Agent } from 'node:https';
import { entrypoint } from '../entrypoints.ts';
import type { ServiceSpec } from './compose.ts';
import type { ContainerView, LogLine } from './types.ts';
import { repoPath } from '../../../common/repo.ts';
import { loopbackAgent, loopbackRequest } from '../../loopback.ts';

const pySite = repoPath('sandbox', 'platform', 'backend', 'pysite');
/** The backend image's /app: the compose build context is services/backend. */
const imageApp = repoPath('fixtures', 'platform', 'services', 'backend');

/** Services that run the backend stand-in (HTTP, Graph, approvals); the rest of the stack idles. */
export const BACKEND_SERVICES = new Set(['backend-b2b', 'backend-gateway']);
/**
 * The rest of the group (runner-agent, celery-worker, celery-beat): alive, logging its start, otherwise idle. A shell
 * rather than a Node program: it has nothing to compute, and three Node starts were a third of the stack's start-up
 * CPU. Its stdin is a pipe the sandbox holds and never writes: end of file means the sandbox is gone (stopped or
 * killed), and the container goes with it, as the backend does when its clock stream from the daemon ends.
 */
const IDLE_SERVICE = [
  "trap 'exit 0' TERM INT",
  'printf \'INFO %s: %s started (sandbox stand-in: idle)\\n\' "$SANDBOX_SERVICE" "$SANDBOX_SERVICE"',
  'read -r _',
  'exit 0',
].join('\n');
const HEALTH_INTERVAL_MS = 400;
const STARTING_INTERVAL_MS = 100;
const START_PERIOD_MS = 1500;
const HEALTH_RETRIES = 3;

/** `health`: the container's health changed (to `healthy` or `unhealthy`), as `docker events` reports it. */
export type ContainerEvent = { kind: 'start' | 'stop' | 'health'; name: string; service: string; env: Readonly<Record<string, string>> };
/** What the backend prints once it accepts connections (uvicorn's own line): its readiness, probed at once. */
const READY_LINE = /Uvicorn running on /;

export interface RuntimeOptions {
  /** Where container roots and logs live (under the sandbox dir). */
  dir: string;
  now(): number;
  log(container: string, line: string): void;
  caPath: string;
  tls: { certPem: string; keyPem: string };
  dockerControlUrl: string;
  /** The sandbox's credential file: containers authenticate to the docker daemon with it (clock, faults). */
  credentialFile: string;
  dbPath: string;
  /** Consumes a `container-unhealthy` fault aimed at this container, if armed. */
  takeUnhealthy(container: string): boolean;
}

interface Container {
  view: ContainerView;
  env: Record<string, string>;
  child: ChildProcess | null;
  logs: LogLine[];
  logFile: string;
  failures: number;
  /** The config it was created from, so `up` without --force-recreate can tell whether anything changed. */
  specHash: string;
  healthTimer?: NodeJS.Timeout;
  /** The service printed its readiness line. */
  ready?: boolean;
  /** The compose file's `start_period`, else START_PERIOD_MS. */
  startPeriodMs?: number;
  /** Settles when the process's stdout and stderr have closed: every line it wrote is recorded. */
  outputEnded?: Promise<void>;
}

/** Containers as real local processes: created, recreated and killed the way `docker compose` would. */
export class ContainerRuntime {
  private readonly containers = new Map<string, Container>();
  /** Ports survive a recreate, like a published port: Graph subscriptions keep pointing at the right place. */
  private readonly ports = new Map<string, number>();
  private readonly listeners = new Set<(e: ContainerEvent) => void>();
  /** `docker logs --follow` readers, by container name. */
  private readonly logReaders = new Map<string, Set<(line: LogLine) => void>>();
  private readonly followWaiters = new Map<string, Array<() => void>>();
  private readonly healthAgent: Agent;
  /** Old container folders being removed. */
  private readonly removals = new Set<Promise<void>>();

  constructor(private readonly opts: RuntimeOptions) {
    this.healthAgent = loopbackAgent(readFileSync(opts.caPath, 'utf8'), { keepAlive: true });
    // Folders a killed sandbox left half removed.
    for (const entry of existsSync(opts.dir) ? readdirSync(opts.dir) : []) if (/\.removed-[0-9a-f]{8}$/.test(entry)) this.remove(join(opts.dir, entry));
  }

  /** Removes `dir` in the background; stopAll waits for it. */
  private remove(dir: string): void {
    const removal: Promise<void> = rm(dir, { recursive: true, force: true }).catch(() => undefined).finally(() => this.removals.delete(removal));
    this.removals.add(removal);
  }

  onEvent(listener: (e: ContainerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(): ContainerView[] {
    return [...this.containers.values()].map((c) => ({ ...c.view }));
  }

  get(name: string): { view: ContainerView; env: Record<string, string> } | undefined {
    const c = this.containers.get(name) ?? [...this.containers.values()].find((x) => x.view.id.startsWith(name));
    return c && { view: { ...c.view }, env: { ...c.env } };
  }

  logs(name: string): LogLine[] {
    return this.containers.get(name)?.logs.slice() ?? [];
  }

  /** Every line `name` logs from now on, as it is written (`docker logs --follow`); returns the unsubscribe. */
  followLogs(name: string, reader: (line: LogLine) => void): () => void {
    const readers = this.logReaders.get(name) ?? new Set();
    this.logReaders.set(name, readers);
    readers.add(reader);
    for (const waiter of this.followWaiters.get(name) ?? []) waiter();
    this.followWaiters.delete(name);
    return () => readers.delete(reader);
  }

  /** Resolves when a `docker logs --follow` reader attaches to `name` (tests wait on it instead of on time). */
  whenFollowed(name: string): Promise<void> {
    if ((this.logReaders.get(name)?.size ?? 0) > 0) return Promise.resolve();
    return new Promise((resolve) => this.followWaiters.set(name, [...(this.followWaiters.get(name) ?? []), resolve]));
  }

  /** `up -d`: start what is not running, recreate what changed (or everything with `forceRecreate`). */
  async up(specs: ServiceSpec[], forceRecreate: boolean): Promise<string[]> {
    const progress: string[] = [];
    await Promise.all(specs.map(async (spec) => {
      const existing = this.containers.get(spec.containerName);
      const changed = !existing || existing.specHash !== hashSpec(spec);
      if (existing?.view.state === 'running' && !forceRecreate && !changed) {
        progress.push(` Container ${spec.containerName}  Running`);
        return;
      }
      if (existing) {
        progress.push(` Container ${spec.containerName}  Recreate`);
        await this.kill(existing);
        progress.push(` Container ${spec.containerName}  Recreated`);
      } else {
        progress.push(` Container ${spec.containerName}  Creating`, ` Container ${spec.containerName}  Created`);
      }
      progress.push(` Container ${spec.containerName}  Starting`);
      await this.create(spec);
      progress.push(` Container ${spec.containerName}  Started`);
    }));
    return progress;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.containers.values()].map((c) => this.kill(c)));
    this.healthAgent.destroy();
    await Promise.all(this.removals);
  }

  private async create(spec: ServiceSpec): Promise<void> {
    const name = spec.containerName;
    const root = join(this.opts.dir, name);
    // A fresh container filesystem each time: what was `docker cp`'d into the old one is gone, as with Docker.
    // The old one is moved aside and removed in the background (stopAll waits for it): removing it in place held up
    // every container's start.
    if (existsSync(root)) {
      const aside = `${root}.removed-${randomBytes(4).toString('hex')}`;
      renameSync(root, aside);
      this.remove(aside);
    }
    for (const d of ['tmp', 'root', 'usr/local/bin', 'run/secrets']) mkdirSync(join(root, d), { recursive: true });
    cpSync(imageApp, join(root, 'app'), { recursive: true });
    // The one script the backend itself performs goes to the stand-in (python.ts); anything else (`-c`, `-`, a
    // script) is this machine's python3 straight away, without a Node process in between (each `docker exec ...
    // python` over SSH would pay for one). The script is python's first argument that is not an option.
    const python3 = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    writeFileSync(join(root, 'usr/local/bin/python'), [
      '#!/bin/sh',
      'for arg in "$@"; do case "$arg" in -c|-m|-) break ;; -*) ;; *fm_m365_wire_org.py) ' + `exec '${process.execPath}' '${await entrypoint('python')}' "$@"` + ' ;; *) break ;; esac; done',
      `exec '${python3}' "$@"`,
      '',
    ].join('\n'), { mode: 0o755 });
    const isBackend = BACKEND_SERVICES.has(spec.service);
    const port = isBackend ? await this.portFor(name) : null;
    const tlsDir = join(root, 'run/secrets');
    writeFileSync(join(tlsDir, 'tls.crt'), this.opts.tls.certPem);
    writeFileSync(join(tlsDir, 'tls.key'), this.opts.tls.keyPem, { mode: 0o600 });
    const unhealthy = isBackend && this.opts.takeUnhealthy(name);
    const id = randomBytes(32).toString('hex');
    const env: Record<string, string> = {
      ...spec.env,
      PATH: `${join(root, 'usr/local/bin')}:/usr/local/bin:/usr/bin:/bin`,
      HOME: join(root, 'root'),
      HOSTNAME: id.slice(0, 12),
      PYTHONPATH: pySite,
      SANDBOX_CONTAINER_NAME: name,
      SANDBOX_CONTAINER_ROOT: root,
      SANDBOX_SERVICE: spec.service,
      SANDBOX_DOCKER_CONTROL: this.opts.dockerControlUrl,
      SANDBOX_DOCKER_CREDENTIAL: this.opts.credentialFile,
      // The daemon is https with the sandbox's certificate.
      NODE_EXTRA_CA_CERTS: this.opts.caPath,
      SANDBOX_DB_PATH: this.opts.dbPath,
      // What the platform's own scripts read (services/backend/scripts/check_allowed_sender.py).
      DATABASE_PATH: this.opts.dbPath,
      SANDBOX_TLS_CERT: join(tlsDir, 'tls.crt'),
      SANDBOX_TLS_KEY: join(tlsDir, 'tls.key'),
      ...(port ? { PORT: String(port) } : {}),
      ...(unhealthy ? { SANDBOX_FAULT_UNHEALTHY: '1' } : {}),
    };
    const now = this.opts.now();
    const c: Container = {
      view: {
        id, name, service: spec.service, image: 'curateme/backend:latest',
        command: isBackend ? `"uvicorn src.main_${spec.service.replace('backend-', '')}:app"` : `"${spec.service}"`,
        state: 'running', exitCode: null, createdAt: now, startedAt: now, finishedAt: null,
        health: spec.hasHealthcheck || isBackend ? 'starting' : 'none', root, port, pid: 0,
      },
      env,
      child: null,
      logs: [],
      logFile: join(this.opts.dir, `${name}.${id.slice(0, 12)}.log`),
      failures: 0,
      specHash: hashSpec(spec),
      ...(spec.startPeriodMs !== undefined ? { startPeriodMs: spec.startPeriodMs } : {}),
    };
    this.containers.set(name, c);
    const child = isBackend
      ? spawn(process.execPath, [await entrypoint('backend')], { cwd: join(root, 'app'), env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('/bin/sh', ['-c', IDLE_SERVICE], { cwd: join(root, 'app'), env, stdio: ['pipe', 'pipe', 'pipe'] });
    c.child = child;
    c.view.pid = child.pid ?? 0;
    c.outputEnded = new Promise((resolve) => child.once('close', () => resolve()));
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      child[stream]!.on('data', (chunk: Buffer) => {
        const parts = (partial + chunk.toString('utf8')).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) this.record(c, stream, line);
      });
      child[stream]!.on('end', () => { if (partial) this.record(c, stream, partial); });
    }
    child.on('exit', (code, signal) => {
      if (c.child !== child) return;
      c.child = null;
      c.view.state = 'exited';
      c.view.pid = 0;
      c.view.exitCode = code ?? (signal ? 128 + 9 : 1);
      c.view.finishedAt = this.opts.now();
      if (c.healthTimer) clearTimeout(c.healthTimer);
      this.emit({ kind: 'stop', name, service: spec.service, env });
    });
    if (c.view.health !== 'none') this.scheduleProbe(c, STARTING_INTERVAL_MS);
    this.emit({ kind: 'start', name, service: spec.service, env });
  }

  private record(c: Container, stream: 'stdout' | 'stderr', line: string): void {
    const entry = { t: this.opts.now(), stream, line };
    c.logs.push(entry);
    for (const reader of this.logReaders.get(c.view.name) ?? []) reader(entry);
    appendFileSync(c.logFile, `${new Date(entry.t).toISOString()} ${stream} ${line}\n`, { mode: 0o600 });
    this.opts.log(c.view.name, line);
    // The service says it is ready: probe now rather than at the next tick of the healthcheck, so a `compose up
    // --wait` (or `docker ps`) sees it healthy as soon as it is.
    if (c.view.health === 'starting' && READY_LINE.test(line)) {
      c.ready = true;
      this.probeNow(c);
    }
  }

  /**
   * Resolves once every named container is healthy (a container without a healthcheck: running), on the runtime's
   * own health events rather than a poll; rejects when one exits or turns unhealthy, or after `timeoutMs`.
   */
  waitHealthy(names: string[], timeoutMs = 15_000): Promise<void> {
    return new Promise((resolveWait, rejectWait) => {
      const verdict = (): 'ok' | string | undefined => {
        const states = names.map((n) => this.containers.get(n)?.view);
        const bad = states.findIndex((v) => !v || v.state !== 'running' || v.health === 'unhealthy');
        if (bad >= 0) {
          const v = states[bad];
          return `container ${names[bad]} is ${!v ? 'missing' : v.state !== 'running' ? `exited (${v.exitCode})` : 'unhealthy'}`;
        }
        return states.every((v) => v!.health === 'healthy' || v!.health === 'none') ? 'ok' : undefined;
      };
      const settle = (): boolean => {
        const result = verdict();
        if (result === undefined) return false;
        clearTimeout(timer);
        off();
        if (result === 'ok') resolveWait();
        else rejectWait(new Error(result));
        return true;
      };
      const timer = setTimeout(() => {
        off();
        const list = names.map((n) => this.containers.get(n)?.view);
        rejectWait(new Error(`containers not healthy: ${list.map((v, i) => `${names[i]}=${v ? `${v.state}/${v.health}` : 'missing'}`).join(', ')}`));
      }, timeoutMs);
      const off = this.onEvent((e) => {
        if (names.includes(e.name)) settle();
      });
      settle();
    });
  }

  /**
   * Probes quickly while a container is starting (so `up` + `ps` see it healthy as soon as it is), then at the
   * steady interval. setTimeout chains rather than setInterval: a slow probe never overlaps the next one.
   */
  private scheduleProbe(c: Container, delayMs: number): void {
    if (c.healthTimer) clearTimeout(c.healthTimer);
    c.healthTimer = setTimeout(() => {
      void this.probe(c).then(() => {
        if (c.view.state === 'running') this.scheduleProbe(c, c.view.health === 'starting' ? STARTING_INTERVAL_MS : HEALTH_INTERVAL_MS);
      });
    }, delayMs);
  }

  /**
   * Failed probes in the start period do not count (Docker's `start_period`). Docker ends it at the first passing
   * probe; here a service that said it is ready and then answers its check with a failure counts at once too (it is
   * unhealthy now, not only after the compose file's 20 s), while a check that gets no answer in time (a loaded
   * machine) still does not, until the start period is over.
   */
  private inStartPeriod(c: Container, answered: boolean): boolean {
    if (c.view.health !== 'starting' || this.opts.now() - c.view.startedAt >= (c.startPeriodMs ?? START_PERIOD_MS)) return false;
    return !(c.ready && answered);
  }

  private probeNow(c: Container): void {
    this.scheduleProbe(c, 0);
  }

  /** Docker's healthcheck loop: healthy on the first pass, unhealthy after RETRIES consecutive failures once the
   * start period is over (failures while starting do not count, as with Docker's `start_period`). */
  private async probe(c: Container): Promise<void> {
    if (c.view.state !== 'running') return;
    let ok = false;
    /** The service answered, and said it is not healthy (rather than not answering in time). */
    let answered = false;
    if (c.view.port === null) ok = true; // idle services: alive is healthy
    else {
      try {
        const res = await loopbackRequest(`https://127.0.0.1:${c.view.port}/health`, { agent: this.healthAgent, timeoutMs: 1000 });
        ok = res.status >= 200 && res.status < 300;
        answered = true;
      } catch { ok = false; }
    }
    if (c.view.state !== 'running') return;
    const before = c.view.health;
    if (ok) {
      c.failures = 0;
      c.view.health = 'healthy';
    } else if (!this.inStartPeriod(c, answered)) {
      c.failures += 1;
      if (c.failures >= HEALTH_RETRIES) c.view.health = 'unhealthy';
    }
    if (c.view.health !== before) this.emit({ kind: 'health', name: c.view.name, service: c.view.service, env: c.env });
  }

  /** Stops the container and resolves once its last output line is recorded (its output ends after its exit). */
  private async kill(c: Container): Promise<void> {
    if (c.healthTimer) clearTimeout(c.healthTimer);
    const child = c.child;
    if (child) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    await c.outputEnded;
  }

  private async portFor(name: string): Promise<number> {
    const known = this.ports.get(name);
    if (known) return known;
    const port = await freePort();
    this.ports.set(name, port);
    return port;
  }

  private emit(e: ContainerEvent): void {
    for (const l of this.listeners) l(e);
  }
}

function hashSpec(spec: ServiceSpec): string {
  return JSON.stringify([spec.env, spec.hasHealthcheck, spec.startPeriodMs]);
}


async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
