import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
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

  scan(): void {
    const tenant = this.src.tenant();
    if (!tenant) return;
    const secrets = tenant.knownSecretValues().filter((s) => s.length >= 8);
    if (!secrets.length) return;
    for (const file of this.src.scanFiles()) {
      let text: string;
      try {
        if (statSync(file).size > 8 * 1024 * 1024) continue;
        text = readFileSync(file, 'utf8');
      } catch { continue; }
      for (const secret of secrets) {
        const at = text.indexOf(secret);
        if (at < 0) continue;
        const where = relative(this.src.sandboxDir, file);
        const key = `${where}\0${secret}`;
        if (this.leaks.has(key)) continue;
        this.leaks.set(key, {
          where, line: text.slice(0, at).split('\n').length, secretHint: secret.slice(0, 3),
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
