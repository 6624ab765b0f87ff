// The process that starts the commands blocks run (see spawner.ts). Plain JavaScript with no imports beyond Node's
// own, so it stays small: forking a small process is several times cheaper than forking the runner.
import { execFileSync, spawn } from 'node:child_process';
import { bashArgs, isBash, shellSpawnArguments } from './bash-argv.mjs';
import { processStat, signalGroup, startTime } from '../process-identity.mjs';

/** @type {Map<number, import('node:child_process').ChildProcess>} */
const children = new Map();

/**
 * Output that arrives after the runner left has nowhere to go. The channel can close between the check and the write
 * (the runner's thread ended as this host started): that EPIPE, an uncaught error otherwise (a stack trace on the
 * operator's terminal), means the runner is gone, and the host leaves as on 'disconnect'.
 */
const sent = (error) => {
  if (error) leave();
};
const send = (message) => {
  if (process.connected) process.send(message, undefined, {}, sent);
};

/** The pids of every descendant of `pid`, deepest last (from `ps`, which Linux and macOS both have). */
function descendants(pid) {
  let table;
  try {
    table = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const byParent = new Map();
  for (const line of table.split('\n')) {
    const [child, parent] = line.trim().split(/\s+/).map(Number);
    if (!child || !parent) continue;
    byParent.set(parent, [...(byParent.get(parent) ?? []), child]);
  }
  const found = [];
  for (let queue = [pid]; queue.length > 0; ) {
    const next = byParent.get(queue.shift()) ?? [];
    found.push(...next);
    queue.push(...next);
  }
  return found;
}

/** When each command's process started: with its pid, that names it even after the pid is free for reuse. */
const started = new WeakMap();

function killTree(child, signal) {
  // Detached children lead their own process group: signal the whole group, as zx itself does. The group can outlive
  // its leader (a background job holding the output open keeps the command from closing).
  if (signalGroup(child.pid, started.get(child), signal)) return;
  // Not a group leader: the command shares the runner's group (zx's default). Once reaped, its pid is free for anyone.
  if (child.exitCode !== null || child.signalCode !== null) return;
  // The shell and everything it started: a shell waiting on a command does not pass the signal on, and a command
  // left running would hold the output open.
  for (const pid of [child.pid, ...descendants(child.pid)]) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/*
 * The warm shell. zx starts every command as a fresh `bash -c SCRIPT`, and most of that cost is starting bash: the
 * fork from a Node process, the exec, bash's own initialisation. So once a command has run, the host starts the next
 * shell ahead of time, with the same shell, cwd, environment and process group setting, and that shell waits for its
 * script on file descriptor 3. When the next command asks for exactly those settings, the script is handed over and
 * evaluated at once; anything else starts fresh.
 *
 * To the command this is still a fresh shell process of its own: same environment, cwd, stdio and process group as
 * `bash -c` gives, nothing left over from reading the script. What differs: `ps` shows the boot line below, not the
 * script; a syntax error reads `bash: syntax error...` instead of `bash: -c: line 1: syntax error...`; and bash does
 * not exec the script's last command in its own place, so signalling the command means signalling its process tree
 * (killTree does).
 *
 * While it waits, the shell ignores the signals a terminal or CI sends the whole process group (Ctrl-C above all): the
 * rollbacks that follow an interrupt need it alive. The script runs with them back at their defaults. The variable
 * that carries the script has a name no environment uses, and is gone before the script runs.
 */
const WARM_BOOT = `trap '' INT TERM HUP QUIT; IFS= read -r -d "" __runbook_script <&3; exec 3<&-; trap - INT TERM HUP QUIT; eval "unset __runbook_script; $__runbook_script"`;
/** bash reads a pipe one byte per system call: past this size, reading the script costs more than the start saves. */
const WARM_MAX_SCRIPT = 2048;

/** @type {{ key: string, child: import('node:child_process').ChildProcess, early: object[] } | undefined} */
let warm;

/** The settings a warm shell must share with a command to run it, or undefined when the command cannot use one. */
function warmKey(command, args, options) {
  // The boot line is bash (`read -d` is not POSIX): a block that sets `$.shell` to another shell starts it fresh.
  if (!isBash(options.shell) || args.length > 0) return undefined;
  if (command.length > WARM_MAX_SCRIPT || command.includes('\0')) return undefined;
  const { input: _input, signal: _signal, ...settings } = options;
  return JSON.stringify(settings);
}

function startWarm(key, options) {
  const { input: _input, shell, ...settings } = options;
  let child;
  try {
    child = spawn(shell, bashArgs(WARM_BOOT), { ...settings, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  } catch {
    return; // The next command starts fresh and reports the problem.
  }
  const entry = { key, child, early: [] };
  // Until a command takes it, anything the shell prints at start-up (BASH_ENV) is kept for that command.
  const keep = (type) => (data) => entry.early.push({ type, data });
  child.stdout.on('data', keep('stdout'));
  child.stderr.on('data', keep('stderr'));
  child.stdio[3].on('error', () => {}); // The shell closes its end once it has the script.
  child.stdin.on('error', () => {});
  child.on('error', () => {});
  child.once('close', () => {
    if (warm === entry) warm = undefined;
  });
  warm = entry;
}

/** The warm shell for `key`, if it is still alive and matches; a shell that does not match is retired. */
function takeWarm(key) {
  const entry = warm;
  warm = undefined;
  if (!entry) return undefined;
  // A shell can have died with this host yet to handle its exit: the news of a death and the next command can arrive
  // together, in either order (a loaded machine, a stopped host). Handed the script, it would report the command
  // killed without its having run. /proc tells a zombie at once.
  const stat = entry.child.exitCode === null && entry.child.signalCode === null ? processStat(entry.child.pid) : 'gone';
  if (entry.key !== key || stat === 'gone' || stat?.state === 'Z') {
    entry.child.stdio[3].end(); // An empty script: it exits at once, cleanly.
    return undefined;
  }
  entry.started = stat?.started;
  entry.child.stdout.removeAllListeners('data');
  entry.child.stderr.removeAllListeners('data');
  entry.child.removeAllListeners('close');
  return entry;
}

/** The environment of the last spawn message that carried one: the runner sends it only when it changes. */
let lastEnv = process.env;

function start(message) {
  const { id, command, args } = message;
  if (message.env) lastEnv = message.env;
  const options = { ...message.options, env: lastEnv };
  const key = warmKey(command, args, options);
  const ready = key === undefined ? undefined : takeWarm(key);
  let child;
  if (ready) {
    child = ready.child;
    ready.child.stdio[3].end(command);
  } else {
    try {
      const [file, argv, settings] = shellSpawnArguments(command, args, options);
      child = spawn(file, argv, { ...settings, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (error) {
      // Nothing started: as Node's own spawn does, the error is followed by the end, so no one waits forever.
      send({ type: 'error', id, message: error.message, code: error.code, errno: error.errno });
      send({ type: 'batch', id, output: [], close: { code: null, signal: null } });
      return;
    }
  }
  children.set(id, child);
  // Read before this host can reap it (only its own event loop does), so the pid is still this command's.
  started.set(child, ready ? ready.started : startTime(child.pid));
  const reply = batcher(id, child.pid, started.get(child));
  for (const { type, data } of ready?.early ?? []) reply.output(type, data);
  child.stdout.on('data', (data) => reply.output('stdout', data));
  child.stderr.on('data', (data) => reply.output('stderr', data));
  child.stdin.on('error', () => {}); // A command that exits without reading its input is not an error here.
  child.on('error', (error) => {
    reply.flush();
    send({ type: 'error', id, message: error.message, code: error.code, errno: error.errno });
  });
  child.on('close', (code, signal) => {
    children.delete(id);
    if (leaving) {
      if (children.size === 0) process.exit(0);
      return;
    }
    reply.close(code, signal);
    // Started once this command is done, so the fork never holds up its output, and it happens while the runner
    // checks and records the step: by the next command, the shell is (nearly) ready.
    if (key !== undefined && warm === undefined) setImmediate(() => warm === undefined && !leaving && startWarm(key, options));
  });
}

/** Output waits this long for more before it is sent: too short for anyone to see, long enough to ride along. */
const OUTPUT_DELAY_MS = 2;

/**
 * What the runner hears of one command: its pid, output and end, in as few messages as possible. Each message wakes
 * both processes; a quick command's pid, output and exit go as one.
 */
function batcher(id, pid, startedAt) {
  /** @type {{ stream: 'stdout' | 'stderr', data: Buffer }[]} */
  let pending = [];
  let timer;
  let pidSent = false;
  const message = (extra) => {
    const out = { type: 'batch', id, output: pending, ...extra };
    if (!pidSent) Object.assign(out, { pid, started: startedAt });
    pidSent = true;
    pending = [];
    return out;
  };
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (pending.length > 0 || !pidSent) send(message({}));
  };
  // The pid goes out at once when nothing follows soon: the runner needs it to signal a long command.
  timer = setTimeout(flush, OUTPUT_DELAY_MS);
  return {
    output(stream, data) {
      pending.push({ stream, data });
      timer ??= setTimeout(flush, OUTPUT_DELAY_MS);
    },
    flush,
    close(code, signal) {
      clearTimeout(timer);
      send(message({ close: { code, signal } }));
    },
  };
}

process.on('message', (message) => {
  if (message.type === 'spawn') {
    start(message);
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
function leave() {
  if (leaving) return;
  leaving = true;
  warm?.child.stdio[3].end();
  warm = undefined;
  for (const child of children.values()) killTree(child, 'SIGTERM');
  if (children.size === 0) process.exit(0);
  setTimeout(() => {
    for (const child of children.values()) killTree(child, 'SIGKILL');
    process.exit(0);
  }, 2000).unref();
}
process.on('disconnect', leave);

// The runner sends commands to a host only once it listens (it queues them before).
send({ type: 'ready' });
