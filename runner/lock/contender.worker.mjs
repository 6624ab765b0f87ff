// A lock contender in a worker thread (for local.test.ts): waits at the barrier, then tries to take the lock.
// Plain JavaScript over the lock module bundled by the test: a worker does not inherit the test's TypeScript loader,
// and loading one in each of 8 workers costs seconds.
import { parentPort, workerData } from 'node:worker_threads';

const { stateDir, key, id, barrier, lockModule } = workerData;
const { acquireLock, LockedError } = await import(lockModule);
const flag = new Int32Array(barrier);

parentPort.on('message', (trial) => {
  parentPort.postMessage({ ready: trial });
  // Every contender blocks here until the test lifts the barrier for this trial: they start within microseconds.
  Atomics.wait(flag, 0, trial - 1);
  try {
    acquireLock(stateDir, key, `w${id}-t${trial}`);
    parentPort.postMessage({ trial, won: true });
  } catch (error) {
    parentPort.postMessage({ trial, won: false, locked: error instanceof LockedError, error: error instanceof LockedError ? undefined : String(error) });
  }
});
parentPort.postMessage({ loaded: true });
