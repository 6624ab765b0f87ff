import { chmodSync, cpSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writePrivateFileSync } from '../../../common/private-files.ts';
import { repoPath } from '../../../common/repo.ts';
import { shellQuote } from '../docker/cli-script.ts';

/** Where the repo's platform fixture lives; the VPS gets a deployed copy of it. */
export const fixturePlatformDir = repoPath('fixtures', 'platform');

export interface VpsHome {
  home: string;
  bin: string;
  tmp: string;
  platformDir: string;
  /** Absolute path of `platform/.env.production`. */
  envFile: string;
}

/**
 * Lays out the VPS user's home: `platform/` (the deployed fixture), `bin/` (the docker shim, first on PATH), and a
 * private `tmp/` so nothing the runbook uploads lands in this machine's shared /tmp.
 */
/** Where the VPS's `docker` finds the sandbox's docker daemon, and how it trusts and authenticates to it. */
export interface DockerDaemonAccess {
  url: string;
  credentialFile: string;
  caFile: string;
}

export function layOutHome(home: string, daemon: DockerDaemonAccess, dockerCli: string): VpsHome {
  const bin = join(home, 'bin');
  const tmp = join(home, 'tmp');
  const platformDir = join(home, 'platform');
  for (const dir of [home, bin, tmp]) mkdirSync(dir, { recursive: true });
  chmodSync(tmp, 0o1777);
  if (!existsSync(platformDir)) cpSync(fixturePlatformDir, platformDir, { recursive: true });

  // The daemon runs each command (`POST /cli`) and answers with a script that prints its output and exits with its
  // status, or starts the container command: a call costs a curl rather than a Node start. `docker logs --follow`
  // streams, so it runs the Node program (which pins this Node, whatever PATH the session has). Paths only: the
  // credential stays in its mode 600 file, read by curl (`-H @FILE`) or the program, never on a command line.
  const node = `DOCKER_SANDBOX_CONTROL=${shellQuote(daemon.url)} DOCKER_SANDBOX_CREDENTIAL=${shellQuote(daemon.credentialFile)} NODE_EXTRA_CA_CERTS=${shellQuote(daemon.caFile)} exec ${shellQuote(process.execPath)} ${shellQuote(dockerCli)} "$@"`;
  writeFileSync(join(bin, 'docker'), [
    '#!/bin/sh',
    `if [ "$1" = logs ]; then for arg in "$@"; do case "$arg" in -f|--follow) ${node} ;; esac; done; fi`,
    `script=$(printf '%s\\0' "$PWD" "$@" | curl -sS --fail --cacert ${shellQuote(daemon.caFile)} -H @${shellQuote(daemon.credentialFile)} --data-binary @- ${shellQuote(`${daemon.url}/cli`)} 2>/dev/null)`,
    'case $? in',
    '  0) ;;',
    '  22|26) echo "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock" >&2; exit 1 ;;',
    '  *) echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1 ;;',
    'esac',
    'eval "$script"',
    '',
  ].join('\n'), { mode: 0o755 });
  // The system python, not a pyenv shim: pyenv resolves through $HOME, which here is the VPS home.
  for (const name of ['python3', 'python']) {
    const link = join(bin, name);
    if (!existsSync(link) && existsSync('/usr/bin/python3')) symlinkSync('/usr/bin/python3', link);
  }
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  return { home, bin, tmp, platformDir, envFile: join(platformDir, '.env.production') };
}

/** The environment every command run over SSH gets: a login-like environment of the `curateme` user. */
export function sessionEnv(v: VpsHome, user: string): NodeJS.ProcessEnv {
  return {
    HOME: v.home,
    USER: user,
    LOGNAME: user,
    SHELL: '/bin/bash',
    PATH: `${v.bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    TMPDIR: v.tmp,
    LANG: 'C.UTF-8',
  };
}

/** Serialises env entries as a dotenv file; 600 because it holds the client secret. */
export function writeEnvFile(path: string, entries: Record<string, string>): void {
  mkdirSync(dirname(path), { recursive: true });
  const body = Object.entries(entries).map(([k, v]) => `${k}=${v}`).join('\n');
  // 600 from the first byte, then renamed over: an existing file's wider mode never applies to the secret.
  writePrivateFileSync(path, `${body}\n`);
}
