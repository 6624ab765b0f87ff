// Preloaded (`--import`) into a CLI process by the fuzz test: reports the CPU time the process used (all its threads)
// on file descriptor 3 as it exits. CPU time, unlike wall time, does not grow with what else the machine is running.
import { writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) {
  process.on('exit', () => {
    const { user, system } = process.cpuUsage();
    try {
      writeSync(3, `${Math.round((user + system) / 1000)}\n`);
    } catch {
      // No descriptor 3: run outside the test.
    }
  });
}
