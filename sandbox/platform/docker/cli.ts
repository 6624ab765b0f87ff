/**
 * `docker` on the sandbox VPS as a Node program, for what streams (`docker logs --follow`): the VPS's `docker` shim
 * hands everything else to the daemon in one request (daemon.ts, `POST /cli`). Runs in the ssh session
 * (stdin/stdout/exit code are the session's); long-lived things live in the daemon.
 */
import { spawn } from 'node:child_process';
import { readCredential } from '../../credential.ts';
import { loopbackLines, loopbackRequest, type LoopbackAnswer } from '../../loopback.ts';
import { CANNOT_CONNECT, DockerError, PERMISSION_DENIED, runDocker, type DockerHost } from './commands.ts';

const control = process.env.DOCKER_SANDBOX_CONTROL ?? '';

/** The daemon's credential, from the file the shim names (as the real CLI reads its socket's permissions). */
function authorization(): Record<string, string> {
  const file = process.env.DOCKER_SANDBOX_CREDENTIAL;
  if (!file) return {};
  try {
    return { authorization: `Bearer ${readCredential(file)}` };
  } catch {
    throw new DockerError(PERMISSION_DENIED);
  }
}

const host: DockerHost = {
  cwd: process.cwd(),
  async api<T>(path: string, init?: { method: string; body: unknown }) {
    let res: LoopbackAnswer;
    const headers = { ...authorization(), ...(init ? { 'content-type': 'application/json' } : {}) };
    try {
      // `node:https` rather than the global fetch, which boots Node's bundled HTTP client on first use.
      res = await loopbackRequest(`${control}${path}`, { headers, ...(init ? { method: init.method, body: JSON.stringify(init.body) } : {}) });
    } catch {
      throw new DockerError(CANNOT_CONNECT);
    }
    if (res.status === 401) throw new DockerError(PERMISSION_DENIED);
    return { status: res.status, body: JSON.parse(res.text) as T };
  },
  async follow(path, onLine) {
    // A reader that went away (`| sed /x/q`) ends the stream at the next line, as with Docker.
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => process.exit(0));
    let status: number;
    try {
      status = await loopbackLines(`${control}${path}`, { headers: authorization() }, onLine);
    } catch {
      throw new DockerError(CANNOT_CONNECT);
    }
    if (status === 401) throw new DockerError(PERMISSION_DENIED);
  },
  out: (text) => { process.stdout.write(text); },
  err: (text) => { process.stderr.write(text); },
  exec: ({ command, cwd, env, fromClient }) => new Promise((resolveExit) => {
    const clientEnv = Object.fromEntries(fromClient.flatMap((name) => (process.env[name] === undefined ? [] : [[name, process.env[name]!]])));
    const child = spawn(command[0]!, command.slice(1), { cwd, env: { ...env, ...clientEnv }, stdio: 'inherit' });
    child.on('error', () => {
      process.stderr.write(`OCI runtime exec failed: exec failed: unable to start container process: exec: "${command[0]}": executable file not found in $PATH: unknown\n`);
      resolveExit(127);
    });
    child.on('exit', (code, signal) => resolveExit(code ?? (signal ? 128 + 9 : 1)));
  }),
};

process.exitCode = await runDocker(host, process.argv.slice(2));
