/**
 * The shell script the daemon answers the VPS's `docker` shim with (`POST /cli`), which the shim evaluates in the ssh
 * session: it prints what the command printed, to the stream it printed it to, and exits with its status; for
 * `docker exec` it becomes the container command instead (`exec`), with the container's environment and folder and
 * the session's stdin. The container's environment (the client secret among it) is set with `export`, a shell
 * builtin, so no value ever appears on a command line.
 */
import type { ExecRequest } from './commands.ts';

export interface CliOutput {
  stream: 'stdout' | 'stderr';
  text: string;
}

/** `text` as one single-quoted shell word. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function shellScript(output: CliOutput[], result: { code: number } | { exec: ExecRequest }): string {
  const lines = output.map(({ stream, text }) => `printf '%s' ${shellQuote(text)}${stream === 'stderr' ? ' >&2' : ''}`);
  if ('code' in result) return [...lines, `exit ${result.code}`, ''].join('\n');
  const { command, cwd, env, fromClient } = result.exec;
  const keep = new Set(fromClient.filter((name) => NAME.test(name)));
  return [
    ...lines,
    // Only the container's environment, as Docker gives it: the session's variables go, except those `-e NAME`
    // passes on from the client.
    `for __name in $(env | sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p'); do case ${shellQuote(` ${[...keep].join(' ')} `)} in *" $__name "*) ;; *) unset "$__name" 2>/dev/null ;; esac; done`,
    ...Object.entries(env).filter(([name]) => NAME.test(name)).map(([name, value]) => (keep.has(name)
      ? `[ "\${${name}+set}" = set ] || export ${name}=${shellQuote(value)}`
      : `export ${name}=${shellQuote(value)}`)),
    `cd ${shellQuote(cwd)} || exit 1`,
    `command -v ${shellQuote(command[0] ?? '')} >/dev/null 2>&1 || { printf '%s\\n' ${shellQuote(`OCI runtime exec failed: exec failed: unable to start container process: exec: "${command[0] ?? ''}": executable file not found in $PATH: unknown`)} >&2; exit 127; }`,
    `exec ${command.map(shellQuote).join(' ')}`,
    '',
  ].join('\n');
}
