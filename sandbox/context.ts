import { join } from 'node:path';
import { createClipboard } from './clipboard.ts';
import { createClock } from './clock.ts';
import { createCredential } from './credential.ts';
import { createFaults } from './faults.ts';
import { createLog } from './log.ts';
import { loadOrCreateCa, loadOrCreateLoopbackCert, type ServerCert } from './tls.ts';
import type { ControlRoute, SandboxContext } from './types.ts';

export interface MutableSandboxContext extends SandboxContext {
  readonly facts: Record<string, string>;
  /** Control routes in registration order; the first that answers wins. */
  readonly controlRoutes: readonly ControlRoute[];
}

export interface ContextOptions {
  dir: string;
  clockOffsetMs?: number;
  /** Also print every log line (the CLI's foreground mode). */
  echoLog?: (line: string) => void;
}

/** The shared services every component receives: state dir, CA, clock, faults, clipboard, log, facts, control. */
export function createContext(options: ContextOptions): MutableSandboxContext {
  const ca = loadOrCreateCa(join(options.dir, 'tls'));
  let loopback: ServerCert | undefined;
  const routes: ControlRoute[] = [];
  const credential = createCredential(options.dir);
  const facts: Record<string, string> = { 'sandbox-dir': options.dir, 'ca-file': ca.certPath, 'credential-file': credential.path };
  return {
    dir: options.dir,
    clock: createClock(options.clockOffsetMs ?? 0),
    faults: createFaults(),
    clipboard: createClipboard(),
    log: createLog(join(options.dir, 'logs', 'sandbox.log'), options.echoLog),
    ca,
    credential,
    loopbackCert: () => (loopback ??= loadOrCreateLoopbackCert(join(options.dir, 'tls'), ca)),
    facts,
    controlRoutes: routes,
    addControlRoute(route) {
      routes.push(route);
    },
  };
}
