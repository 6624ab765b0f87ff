// The process that starts the commands blocks run (see spawner.ts). Plain JavaScript with no imports beyond Node's
// own, so it stays small: forking a small process is several times cheaper than forking the runner.
import { spawn } from 'node:child_process';

/** @type {Map<number, import('node:child_process').ChildProcess>} */
const children = new Map();

/** Output that arrives after the runner left has nowhere to go. */
const send = (message) => {
  if (process.connected) process.send(message);
};

function killTree(child, signal) {
  try {
    // Detached children lead their own process group: signal the whole group, as zx itself does.
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

process.on('message', (message) => {
  if (message.type === 'spawn') {
    const { id, command, args, options } = message;
    let child;
    try {
      child = spawn(command, args, { ...options, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (error) {
      send({ type: 'error', id, message: error.message, code: error.code });
      return;
    }
    children.set(id, child);
    send({ type: 'pid', id, pid: child.pid });
    child.stdout.on('data', (data) => send({ type: 'stdout', id, data }));
    child.stderr.on('data', (data) => send({ type: 'stderr', id, data }));
    child.stdin.on('error', () => {}); // A command that exits without reading its input is not an error here.
    child.on('error', (error) => send({ type: 'error', id, message: error.message, code: error.code }));
    child.on('close', (code, signal) => {
      children.delete(id);
      if (leaving) {
        if (children.size === 0) process.exit(0);
        return;
      }
      send({ type: 'close', id, code, signal });
    });
  } else if (message.type === 'stdin') {
    children.get(message.id)?.stdin.write(message.data);
  } else if (message.type === 'stdin-end') {
    children.get(message.id)?.stdin.end();
  } else if (message.type === 'kill') {
    const child = children.get(message.id);
    if (child) killTree(child, message.signal);
  }
});

// Ctrl-C reaches the whole terminal process group: the commands get it as they always did, but the host stays up,
// because the runner is about to need it for the rollbacks.
process.on('SIGINT', () => {});

// The runner is gone (finished, or killed): take its commands with it rather than leave them orphaned.
// It waits for them to exit (reaping them) before exiting itself, briefly: no zombie outlives the run.
let leaving = false;
process.on('disconnect', () => {
  leaving = true;
  for (const child of children.values()) killTree(child, 'SIGTERM');
  if (children.size === 0) process.exit(0);
  setTimeout(() => {
    for (const child of children.values()) killTree(child, 'SIGKILL');
    process.exit(0);
  }, 2000).unref();
});
