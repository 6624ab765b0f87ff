import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';

const { utils } = ssh2;

/** The key material the VPS and its operator need; all of it lives under the sandbox dir. */
export interface SshKeys {
  hostKeyPem: string;
  /** Public half of the host key, in `authorized_keys`/`known_hosts` format ("ssh-ed25519 AAAA..."). */
  hostPublicKey: string;
  clientKeyPath: string;
  clientPublicKey: string;
}

/**
 * Generates an ed25519 host key and a client key. ssh-keygen writes the OpenSSH private key format the real client
 * reads; without it we fall back to ssh2's own generator, which writes the same format.
 */
export function generateKeys(dir: string): SshKeys {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const hostKeyPath = join(dir, 'ssh_host_ed25519_key');
  const clientKeyPath = join(dir, 'id_ed25519');
  for (const [path, comment] of [[hostKeyPath, 'sandbox-vps-host'], [clientKeyPath, 'sandbox-operator']] as const) {
    if (!existsSync(path)) writeKeyPair(path, comment);
  }
  return {
    hostKeyPem: readFileSync(hostKeyPath, 'utf8'),
    hostPublicKey: readFileSync(`${hostKeyPath}.pub`, 'utf8').trim(),
    clientKeyPath,
    clientPublicKey: readFileSync(`${clientKeyPath}.pub`, 'utf8').trim(),
  };
}

function writeKeyPair(path: string, comment: string): void {
  try {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { stdio: 'ignore' });
    return;
  } catch {
    // No ssh-keygen on this machine: ssh2 can generate the same OpenSSH-format pair.
  }
  const pair = utils.generateKeyPairSync('ed25519', { comment });
  writeFileSync(path, pair.private, { mode: 0o600 });
  writeFileSync(`${path}.pub`, `${pair.public}\n`, { mode: 0o644 });
}

/** ssh_config + known_hosts so `ssh -F <config> <alias>` works with strict host checking and no agent or prompts. */
export function writeClientConfig(opts: {
  dir: string; alias: string; port: number; user: string; keys: SshKeys;
}): { configPath: string; knownHostsPath: string } {
  const knownHostsPath = join(opts.dir, 'known_hosts');
  // Host keys for a non-22 port are recorded as [host]:port.
  writeFileSync(knownHostsPath, `[127.0.0.1]:${opts.port} ${opts.keys.hostPublicKey}\n`, { mode: 0o644 });
  const configPath = join(opts.dir, 'ssh_config');
  writeFileSync(configPath, [
    `Host ${opts.alias}`,
    '  HostName 127.0.0.1',
    `  Port ${opts.port}`,
    `  User ${opts.user}`,
    `  IdentityFile ${opts.keys.clientKeyPath}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${knownHostsPath}`,
    '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes',
    '  BatchMode yes',
    '  PasswordAuthentication no',
    '  KbdInteractiveAuthentication no',
    '  ConnectTimeout 10',
    '  LogLevel ERROR',
    '',
  ].join('\n'), { mode: 0o644 });
  return { configPath, knownHostsPath };
}
