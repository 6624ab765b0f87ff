/**
 * Sandbox time inside a container. The clock lives in the sandbox process; a container watches it through one
 * long-lived stream from the docker daemon (`GET /clock/watch`), which pushes the sandbox's now when the container
 * connects and at every advance. The stream also ties the container to the sandbox: when it ends (the sandbox stopped
 * or was killed), the container exits, so no container outlives its sandbox. Requests are `node:https`: a container
 * that loads no fetch starts in a fraction of the CPU.
 */
import { readCredential } from '../../credential.ts';
import { loopbackLines, loopbackRequest } from '../../loopback.ts';

/** The docker daemon's credential, from the file the runtime names in the container's environment. */
function daemonHeaders(env: NodeJS.ProcessEnv): Record<string, string> {
  const file = env.SANDBOX_DOCKER_CREDENTIAL;
  return file ? { authorization: `Bearer ${readCredential(file)}` } : {};
}

export interface ContainerClock {
  now(): number;
  /**
   * Called with the sandbox's now when it is first known (the stream's first line) and whenever the sandbox clock
   * moves other than with real time (an advance). Register right after `startClock`.
   */
  onChange(listener: (now: number) => void): void;
}

/**
 * Starts watching the sandbox clock. `onGone` runs when the stream ends or cannot be opened: the sandbox is gone
 * (default: exit, as a container does when its runtime goes away). Without a daemon in the environment (the backend
 * run on its own) sandbox time is real time.
 */
export function startClock(env: NodeJS.ProcessEnv, onGone: () => void = () => process.exit(0)): ContainerClock {
  const control = env.SANDBOX_DOCKER_CONTROL;
  let offset = 0;
  const listeners: ((now: number) => void)[] = [];
  const changed = (now: number): void => {
    for (const listener of listeners) listener(now);
  };
  if (!control) queueMicrotask(() => changed(Date.now()));
  else {
    // Trust is the container's: NODE_EXTRA_CA_CERTS names the sandbox's CA.
    loopbackLines<{ now: number }>(`${control}/clock/watch`, { headers: daemonHeaders(env) }, ({ now }) => {
      offset = now - Date.now();
      changed(now);
    }).then(onGone, onGone);
  }
  return { now: () => Date.now() + offset, onChange: (listener) => { listeners.push(listener); } };
}

/** Asks the sandbox whether a fault aimed at this container is armed (consuming it). */
export async function takeFault(env: NodeJS.ProcessEnv, kind: string): Promise<Record<string, unknown> | null> {
  if (!env.SANDBOX_DOCKER_CONTROL) return null;
  const res = await loopbackRequest(`${env.SANDBOX_DOCKER_CONTROL}/faults/take`, {
    method: 'POST',
    headers: { ...daemonHeaders(env), 'content-type': 'application/json' },
    body: JSON.stringify({ kind }),
  });
  return (JSON.parse(res.text) as { spec: Record<string, unknown> | null }).spec;
}
