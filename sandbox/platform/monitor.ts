import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Clock, TenantView } from '../types.ts';

/** An interval during which a running backend service held no secret valid in the tenant. */
export interface DeadWindow {
  /** Sandbox-clock ISO times. */
  start: string;
  end: string | null;
  /** Real milliseconds the window lasted (so far, when still open). */
  durationMs: number;
  services: string[];
}

export interface Leak {
  /** File (relative to the sandbox dir) or log the value showed up in. */
  where: string;
  line: number;
  /** First three characters, like Entra's `hint`; the value itself never leaves the monitor. */
  secretHint: string;
  foundAt: string;
}

export interface MonitorReport {
  ok: boolean;
  checks: number;
  bothDead: DeadWindow[];
  leaks: Leak[];
}

export interface MonitorSources {
  clock: Clock;
  tenant(): TenantView | undefined;
  /** The secret each backend service's latest container was started with ('' when it had none). */
  heldSecrets(): Map<string, string>;
  /** Files to scan for secret values. */
  scanFiles(): string[];
  /**
   * Whether `file` is a log that is only ever appended to (the sandbox's and the containers'): a scan searches only what
   * was added since the last one. Everything else is searched whole every time.
   */
  appendOnly?(file: string): boolean;
  sandboxDir: string;
}

/**
 * The invariant monitor. Both-dead: evaluated on every container start/stop, credential change and clock advance
 * (callers call `check()`), and on a cheap poll as a safety net. Leaks: every known secret value, searched in every
 * sandbox log and VPS file except the places a secret is meant to be.
 */
export class InvariantMonitor {
  private readonly windows: (DeadWindow & { startedWall: number })[] = [];
  private readonly leaks = new Map<string, Leak>();
  private checks = 0;
  /** How far each append-only log was searched, for the secrets whose digest is `searchedFor`. */
  private readonly searchedTo = new Map<string, number>();
  private searchedFor = '';
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly unsubscribe: () => void;

  constructor(private readonly src: MonitorSources, pollMs = 200) {
    this.unsubscribe = src.clock.onAdvance(() => this.check());
    this.timers.push(setInterval(() => this.check(), pollMs), setInterval(() => this.scan(), 1000));
    for (const t of this.timers) t.unref();
  }

  check(): void {
    const tenant = this.src.tenant();
    if (!tenant) return;
    this.checks++;
    const dead = [...this.src.heldSecrets()]
      .filter(([, secret]) => !secret || !tenant.isSecretValid(tenant.appId, secret))
      .map(([service]) => service)
      .sort();
    const open = this.windows.find((w) => w.end === null);
    const now = new Date(this.src.clock.now()).toISOString();
    if (dead.length && !open) {
      this.windows.push({ start: now, end: null, durationMs: 0, services: dead, startedWall: Date.now() });
    } else if (open && !dead.length) {
      open.end = now;
      open.durationMs = Date.now() - open.startedWall;
    } else if (open) {
      open.services = [...new Set([...open.services, ...dead])].sort();
    }
  }

  /**
   * Searches the files for every known secret. Logs only grow, and the sandbox's persist across runs: each scan reads
   * only what they gained since the last (from a little before, so a value written across the two reads is found),
   * unless the set of secrets changed, which searches everything again.
   */
  scan(): void {
    const tenant = this.src.tenant();
    if (!tenant) return;
    const secrets = tenant.knownSecretValues().filter((s) => s.length >= 8);
    if (!secrets.length) return;
    const digest = createHash('sha256').update([...secrets].sort().join('\0')).digest('hex');
    if (digest !== this.searchedFor) {
      this.searchedTo.clear();
      this.searchedFor = digest;
    }
    const overlap = Math.max(...secrets.map((secret) => Buffer.byteLength(secret))) - 1;
    for (const file of this.src.scanFiles()) {
      const incremental = this.src.appendOnly?.(file) ?? false;
      let text: string;
      let start = 0;
      try {
        const size = statSync(file).size;
        const before = incremental ? this.searchedTo.get(file) ?? 0 : 0;
        if (incremental) this.searchedTo.set(file, size);
        if (incremental && before === size) continue;
        start = before > size ? 0 : Math.max(0, before - overlap);
        if (size - start > 8 * 1024 * 1024) continue;
        text = start === 0 ? readFileSync(file, 'utf8') : readFrom(file, start, size);
      } catch { continue; }
      for (const secret of secrets) {
        if (!text.includes(secret)) continue;
        const where = relative(this.src.sandboxDir, file);
        const key = `${where}\0${secret}`;
        if (this.leaks.has(key)) continue;
        // The line is counted in the whole file: a found leak is rare, a whole read then is cheap enough.
        const whole = start === 0 ? text : readFileSync(file, 'utf8');
        this.leaks.set(key, {
          where, line: whole.slice(0, whole.indexOf(secret)).split('\n').length, secretHint: secret.slice(0, 3),
          foundAt: new Date(this.src.clock.now()).toISOString(),
        });
      }
    }
  }

  report(): MonitorReport {
    this.check();
    this.scan();
    const bothDead = this.windows.map(({ startedWall, ...w }) => ({
      ...w, durationMs: w.end === null ? Date.now() - startedWall : w.durationMs,
    }));
    const leaks = [...this.leaks.values()];
    return { ok: !bothDead.length && !leaks.length, checks: this.checks, bothDead, leaks };
  }

  stop(): void {
    this.unsubscribe();
    for (const t of this.timers) clearInterval(t);
  }
}

/** Bytes `start` to `end` of `file`, as text. */
function readFrom(file: string, start: number, end: number): string {
  const buffer = Buffer.alloc(end - start);
  const fd = openSync(file, 'r');
  try {
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, start + read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Every regular file under `root`, skipping paths for which `skip` says so. */
export function walkFiles(root: string, skip: (path: string) => boolean): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (skip(p)) continue;
      if (entry.isDirectory()) visit(p);
      else if (entry.isFile()) out.push(p);
    }
  };
  visit(root);
  return out;
}
