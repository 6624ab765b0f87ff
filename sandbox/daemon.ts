/**
 * The background sandbox process behind `runbook sandbox up`: starts the sandbox, publishes its facts in the state
 * file, and stops it (removing the state) on SIGTERM/SIGINT/SIGHUP or when the process it watches dies.
 * Usage: node --import tsx sandbox/daemon.ts --dir DIR [--watch-pid PID]
 */
import { parseArgs } from 'node:util';
import { startSandbox } from './index.ts';
import { isAlive, removeState, writeState } from './state.ts';

const { values } = parseArgs({ options: { dir: { type: 'string' }, 'watch-pid': { type: 'string' } } });
if (!values.dir) {
  process.stderr.write('sandbox daemon: --dir is required\n');
  process.exit(2);
}
const dir = values.dir;
const watchPid = values['watch-pid'] ? Number(values['watch-pid']) : undefined;

try {
  const sandbox = await startSandbox({ dir, echoLog: (line) => process.stdout.write(`${line}\n`) });
  let stopping = false;
  const shutdown = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    sandbox.context.log.write('daemon', `stopping (${reason})`);
    let code = 0;
    try {
      await sandbox.stop();
    } catch (error) {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      code = 1;
    }
    removeState(dir, process.pid);
    process.exit(code);
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void shutdown(signal));
  // Holds the process open (the listeners are unref'd) and notices a watched parent's death.
  setInterval(() => {
    if (watchPid !== undefined && !isAlive(watchPid)) void shutdown(`watched process ${watchPid} exited`);
  }, 500);
  writeState(dir, { pid: process.pid, startedAt: new Date().toISOString(), facts: { ...sandbox.facts } });
  sandbox.context.log.write('daemon', `ready pid=${process.pid}`);
  // The readiness notification `runbook sandbox up` waits on (its IPC channel), then the channel goes: this process
  // outlives the one that started it.
  process.send?.({ type: 'ready' }, () => process.disconnect?.());
} catch (error) {
  process.stderr.write(`sandbox failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
