/**
 * Sandbox time inside a container. The clock lives in the sandbox process; containers poll the docker daemon for it
 * (cheap, loopback) and also notice from the poll when the sandbox is gone, so no container outlives it.
 */
import { isAlive } from '../../../common/pid.ts';
import { readCredential } from '../../credential.ts';

/** The docker daemon's credential, from the file the runtime names in the container's environment. */
function daemonHeaders(env: NodeJS.ProcessEnv): Record<string, string> {
  const file = env.SANDBOX_DOCKER_CREDENTIAL;
  return file ? { authorization: `Bearer ${readCredential(file)}` } : {};
}
export interface ContainerClock {
  now(): number;
  /** Called on every poll with the sandbox's now; renewal timers hang off this. */
  onTick(listener: (now: number) => void): void;
}

export function startClock(env: NodeJS.ProcessEnv, intervalMs = 500): ContainerClock {
  const control = env.SANDBOX_DOCKER_CONTROL;
  const parentPid = Number(env.SANDBOX_PARENT_PID);
  let offset = 0;
  let failures = 0;
  const listeners: ((now: number) => void)[] = [];
  const tick = async (): Promise<void> => {
    if (parentPid && !isAlive(parentPid)) process.exit(0);
    if (!control) return;
    try {
      const res = await fetch(`${control}/clock`, { headers: daemonHeaders(env), signal: AbortSignal.timeout(2000) });
      const { now } = (await res.json()) as { now: number };
      offset = now - Date.now();
      failures = 0;
      for (const l of listeners) l(now);
    } catch {
      if (++failures >= 10) process.exit(0); // the sandbox went away without killing us
    }
  };
  // Not unref'd: for the idle services this interval is what keeps the process (the "container") running.
  setInterval(() => void tick(), intervalMs);
  void tick();
  return { now: () => Date.now() + offset, onTick: (l) => { listeners.push(l); } };
}


/** Asks the sandbox whether a fault aimed at this container is armed (consuming it). */
export async function takeFault(env: NodeJS.ProcessEnv, kind: string): Promise<Record<string, unknown> | null> {
  if (!env.SANDBOX_DOCKER_CONTROL) return null;
  const res = await fetch(`${env.SANDBOX_DOCKER_CONTROL}/faults/take`, {
    method: 'POST', headers: { ...daemonHeaders(env), 'content-type': 'application/json' }, body: JSON.stringify({ kind }),
  });
  return ((await res.json()) as { spec: Record<string, unknown> | null }).spec;
}
