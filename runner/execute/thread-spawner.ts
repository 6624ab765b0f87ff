import { parentPort } from 'node:worker_threads';
import type { WorkerMessage } from './runtime.ts';
import { startTime } from '../../common/process-identity.mjs';
import { createSpawner, type OnPid } from '../../common/spawn/spawner.ts';

/**
 * The runner hears of every command's process group (it kills them with a stopped block), with its leader's start
 * time: the host's, or read here for a command this thread started, which it has not reaped yet (it is told at once).
 */
export const onPid: OnPid = (pid, started = startTime(pid)) => parentPort!.postMessage({ type: 'pid', pid, started } satisfies WorkerMessage);

/** The block thread's command hosts, booting from the moment this module loads (see worker.ts). */
export const spawner = createSpawner({ onPid });
spawner.warm();
