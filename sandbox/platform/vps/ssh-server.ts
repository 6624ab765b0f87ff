import type { ChildProcess } from 'node:child_process';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import type { Connection, ServerChannel, ParsedKey } from 'ssh2';
import { createSpawner } from '../../../common/spawn/spawner.ts';
import { serveSftp } from './sftp.ts';

const { Server, utils } = ssh2;

export interface SshServerOptions {
  hostKeyPem: string;
  /** The one key allowed in ("ssh-ed25519 AAAA... comment"). Key auth only: passwords are refused. */
  authorizedKey: string;
  user: string;
  home: string;
  /** Environment of every exec'd command (HOME, PATH with the docker shim first, TMPDIR ...). */
  env: NodeJS.ProcessEnv;
  /**
   * Asked at every session (each command, shell or sftp a client opens): drop the connection now (`'now'`), after this
   * many more payload bytes (a number), or not (undefined). Asked per session rather than per connection because a
   * client that shares one connection (ControlMaster) opens a session, not a connection, per command: a network
   * drop reaches it all the same. This is how the `ssh-drop` fault reaches the server without it knowing about faults.
   */
  dropPolicy?: () => 'now' | number | undefined;
  /**
   * The file-mode creation mask of every command, as sshd gives a login session (default 022: new files 644). Set
   * per command, not inherited from this process, so a runbook that relies on a private umask without setting one
   * fails here as it would on a real host.
   */
  umask?: number;
  log?: (line: string) => void;
}

export interface SshServer {
  port: number;
  /** Authenticated connections since start: each is one full SSH handshake (what connection reuse saves). */
  handshakes(): number;
  close(): Promise<void>;
}

export async function startSshServer(opts: SshServerOptions): Promise<SshServer> {
  const allowed = utils.parseKey(opts.authorizedKey);
  if (allowed instanceof Error) throw allowed;
  const allowedKey = allowed as ParsedKey;
  const log = opts.log ?? (() => undefined);
  const umask = (opts.umask ?? 0o022).toString(8).padStart(3, '0');
  const connections = new Set<Connection>();
  const children = new Set<ChildProcess>();
  // Each session's bash starts from the small command hosts a run's blocks use, not from this process: the sandbox
  // usually shares its process with the runner, and a fork of it blocks the runner's main thread (about 10 ms a
  // session here, 150 a rotation).
  const spawner = createSpawner();
  let handshakes = 0;

  const server = new Server({ hostKeys: [opts.hostKeyPem] }, (client) => {
    connections.add(client);
    // Replies are small and many: with Nagle's algorithm on, each waited for a delayed ACK
    // (~40 ms on loopback), and every command over the shared connection paid that two or three times.
    (client as unknown as { setNoDelay(noDelay: boolean): void }).setNoDelay(true);
    client.on('close', () => connections.delete(client));
    client.on('error', (err) => log(`ssh connection error: ${err.message}`));

    let budget = Infinity;
    const drop = (): void => {
      log('ssh fault: dropping connection');
      // Destroying the socket (not a polite disconnect) is what a network drop looks like to the client.
      (client as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
      client.end();
    };
    const onBytes = (n: number): void => {
      budget -= n;
      if (budget < 0) drop();
    };

    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey' || ctx.username !== opts.user) return ctx.reject(['publickey']);
      const pub = allowedKey.getPublicSSH();
      if (ctx.key.algo !== allowedKey.type || ctx.key.data.length !== pub.length || !timingSafeEqual(ctx.key.data, pub)) {
        return ctx.reject(['publickey']);
      }
      // Without a signature the client is only asking whether this key would do.
      if (ctx.signature && allowedKey.verify(ctx.blob as Buffer, ctx.signature, ctx.hashAlgo) !== true) {
        return ctx.reject(['publickey']);
      }
      ctx.accept();
    });

    client.on('ready', () => {
      handshakes += 1;
      client.on('session', (acceptSession) => {
        const policy = opts.dropPolicy?.();
        if (policy === 'now') return drop();
        if (typeof policy === 'number') budget = policy;
        const session = acceptSession();
        const env: NodeJS.ProcessEnv = {};
        session.on('env', (accept, _reject, info) => { env[info.key] = info.val; accept?.(); });
        session.on('pty', (accept) => accept?.());
        session.on('window-change', (accept) => accept?.());
        session.on('exec', (accept, _reject, info) => {
          run(accept(), ['-c', info.command], env);
        });
        // A shell with no command (`ssh host < script`) reads its commands from stdin.
        session.on('shell', (accept) => run(accept(), ['-s'], env));
        session.on('sftp', (accept) => serveSftp(accept(), opts.home, onBytes, opts.umask ?? 0o022));
      });
    });

    function run(stream: ServerChannel, args: string[], extraEnv: NodeJS.ProcessEnv): void {
      // `sh` sets the session's umask and becomes the user's bash (exec: the same process, `$0` still /bin/bash).
      const child = spawner.spawn('/bin/sh', ['-c', `umask ${umask}; exec /bin/bash "$@"`, '/bin/bash', ...args], {
        cwd: opts.home,
        env: { ...extraEnv, ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.add(child);
      child.stdin.on('error', () => undefined); // the command may exit before reading all of stdin
      stream.on('data', (chunk: Buffer) => { onBytes(chunk.length); child.stdin.write(chunk); });
      stream.on('end', () => child.stdin.end());
      stream.on('error', () => undefined);
      child.stdout.on('data', (chunk: Buffer) => { onBytes(chunk.length); stream.write(chunk); });
      child.stderr.on('data', (chunk: Buffer) => stream.stderr.write(chunk));
      // The channel can close first (client killed, drop fault): the command then gets SIGHUP as on a real host.
      stream.on('close', () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGHUP'); });
      // 'close' (not 'exit') so every byte of stdout/stderr is forwarded before the exit status.
      child.on('close', (code, signal) => {
        children.delete(child);
        if (signal) stream.exit(signal.replace(/^SIG/, ''), false, '');
        else stream.exit(code ?? 255);
        stream.end();
      });
      child.on('error', (err) => { stream.stderr.write(`bash: ${err.message}\n`); stream.exit(127); stream.end(); });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    handshakes: () => handshakes,
    close: async () => {
      for (const child of children) child.kill('SIGKILL');
      spawner.close();
      for (const c of connections) c.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
