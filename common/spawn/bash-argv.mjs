// How a command's bash is started, shared by the command host (spawn-host.mjs) and the runner's own spawn
// (spawner.ts). Plain JavaScript with Node's own imports only: the host loads it as it is.
import path from 'node:path';

/** A `shell` option that names bash (zx's default): the shells that get `--norc`. */
export function isBash(shell) {
  return typeof shell === 'string' && path.basename(shell) === 'bash';
}

/**
 * bash's arguments for a script. `--norc`, because bash takes a non-interactive shell whose standard input is a
 * socket, started at the top level (SHLVL unset or 0), for one started by sshd, and reads ~/.bashrc before the script;
 * Node's pipes are socket pairs, and a runner started by CI, cron, systemd or an IDE has no SHLVL. Every command would
 * then print what the operator's ~/.bashrc prints (into the output its verify checks) and pay for its start-up (half a
 * second for a version manager's init). `--norc` turns off exactly that: BASH_ENV, the start-up file a non-interactive
 * shell documents, still applies, and a command runs as it would from the operator's terminal.
 */
export function bashArgs(script) {
  return ['--norc', '-c', script];
}

/**
 * `spawn(command, args, options)` as Node would run it, with bash started through `bashArgs`: Node's own `shell`
 * option runs `shell -c "command args..."`, which has no room for the flag.
 */
export function shellSpawnArguments(command, args, options) {
  if (!isBash(options.shell)) return [command, args, options];
  return [options.shell, bashArgs([command, ...args].join(' ')), { ...options, shell: false }];
}
