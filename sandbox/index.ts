import { mkdirSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { privateDir } from '../common/private-files.ts';
import { createContext } from './context.ts';
import { coreControlRoutes } from './control.ts';
import { createIdentityComponent, type IdentityOptions } from './identity/index.ts';
import { platformComponents } from './platform/index.ts';
import type { ComponentHandle, SandboxComponent, SandboxContext } from './types.ts';

export type { SandboxContext } from './types.ts';

export interface SandboxOptions {
  /** State folder (CA, keys, logs, platform state). Default `.runbook/sandbox` under the cwd. */
  dir?: string;
  /** Components to start, in order. Default: identity, then the platform side. */
  components?: SandboxComponent[];
  /** Seeds the identity side, e.g. `{ existingSecretExpiresInDays: -1 }` for an already expired secret. */
  identity?: IdentityOptions;
  /** Start the sandbox clock this far ahead of real time. */
  clockOffsetMs?: number;
  /** Print each log line as it is written (the daemon's foreground mode). */
  echoLog?: (line: string) => void;
}

export interface SandboxHandle {
  /** authority, graph, portal, control, ca-file, tenant-id, client-id, ... (see README of sandbox/). */
  readonly facts: Readonly<Record<string, string>>;
  readonly context: SandboxContext;
  /** Runs every component's teardown in reverse start order; throws an AggregateError of all that failed. */
  stop(): Promise<void>;
}

export const defaultSandboxDir = (cwd = process.cwd()): string => resolve(cwd, '.runbook', 'sandbox');

async function stopAll(handles: Array<{ name: string; handle: ComponentHandle }>): Promise<void> {
  const errors: unknown[] = [];
  for (const { name, handle } of [...handles].reverse()) {
    try {
      await handle.stop();
    } catch (error) {
      errors.push(new Error(`sandbox component ${name} failed to stop: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `${errors.length} sandbox component(s) failed to stop`);
}

/**
 * Starts the loopback sandbox tenant: identity side first (authority, Graph, portal, control API), then the platform
 * components, each seeing the facts published before it. A component that fails to start stops those already started.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxHandle> {
  const dir = resolve(options.dir ?? defaultSandboxDir());
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Keys, the credential and the VPS's env file live here: only this user may list or read it, nor its `.runbook/`.
  privateDir(dir);
  if (basename(dirname(dir)) === '.runbook') privateDir(dirname(dir));
  const context = createContext({
    dir,
    ...(options.clockOffsetMs !== undefined ? { clockOffsetMs: options.clockOffsetMs } : {}),
    ...(options.echoLog ? { echoLog: options.echoLog } : {}),
  });
  context.addControlRoute(coreControlRoutes(context));
  const components = options.components ?? [createIdentityComponent(options.identity), ...platformComponents];
  const started: Array<{ name: string; handle: ComponentHandle }> = [];
  for (const component of components) {
    try {
      const handle = await component.start(context);
      Object.assign(context.facts, handle.facts ?? {});
      started.push({ name: component.name, handle });
    } catch (error) {
      await stopAll(started).catch(() => undefined);
      throw new Error(`sandbox component ${component.name} failed to start: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
  let stopping: Promise<void> | undefined;
  return {
    facts: context.facts,
    context,
    stop: () => (stopping ??= stopAll(started)),
  };
}
