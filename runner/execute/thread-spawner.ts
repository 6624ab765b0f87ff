import { parentPort } from 'node:worker_threads';
import type { WorkerMessage } from './runtime.ts';
import { createSpawner, type OnPid } from './spawner.ts';

/** The runner hears of every command's process group (it kills them with a stopped block). */
export const onPid: OnPid = (pid, started) => parentPort!.postMessage({ type: 'pid', pid, started } satisfies WorkerMessage);

/** The block thread's command hosts, booting from the moment this module loads (see worker.ts). */
export const spawner = createSpawner({ onPid });
spawner.warm();
