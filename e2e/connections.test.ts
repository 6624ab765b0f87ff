/**
 * SSH connection sharing (runner/connections.ts) against the sandbox VPS and the real OpenSSH client: one handshake
 * however many commands, a dropped master re-opened by the next command, nothing left behind by close().
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { shareConnections } from '../runner/connections.ts';
import { createTarget } from '../runner/target.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/platform/testing.ts';

interface Ran { code: number; stdout: string; stderr: string }

/** With pipes on stdout and stderr, as zx runs commands: a master that kept them open would hang this call. */
const run = (bin: string, args: string[]): Promise<Ran> =>
  new Promise((resolve) => {
    execFile(bin, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 255) : 0;
      resolve({ code, stdout, stderr });
    });
  });

describe('one SSH handshake per run and host', () => {
  let t: TestSandbox;
  const local = mkdtempSync(path.join(os.tmpdir(), 'connections-'));
  before(async () => { t = await startTestSandbox({ startContainers: false }); });
  after(async () => {
    await t?.stop();
    rmSync(local, { recursive: true, force: true });
  });

  const sandboxTarget = () =>
    createTarget('sandbox', true, { ssh: t.facts['ssh-host'], 'ssh-options': ['-F', t.facts['ssh-config']] });

  it('runs every ssh and scp of a run over one connection, in a private short socket folder, closed at the end', async () => {
    const shared = shareConnections(sandboxTarget());
    const options = shared.target.settings['ssh-options'] as string[];
    const host = shared.target.get('ssh');
    assert.deepEqual(options.slice(0, 2), ['-F', t.facts['ssh-config']], 'the target\'s own options stay first');
    const controlPath = options.find((option) => option.startsWith('ControlPath='))!.slice('ControlPath='.length);
    const dir = path.dirname(controlPath);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.ok(`${dir}/${'0'.repeat(40)}`.length < 104, `socket path too long for a unix socket: ${dir}`);

    const before = t.platform.sshHandshakes();
    for (const n of [1, 2, 3]) {
      const r = await run('ssh', [...options, host, `echo run ${n}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `run ${n}\n`);
    }
    const file = path.join(local, 'upload.txt');
    writeFileSync(file, 'uploaded\n', { mode: 0o600 });
    const up = await run('scp', [...options, file, `${host}:${t.facts['vps-tmp']}/upload.txt`]);
    assert.equal(up.code, 0, up.stderr);
    const failing = await run('ssh', [...options, host, 'echo oops >&2; exit 3']);
    assert.equal(failing.code, 3, 'a remote exit code comes through the shared connection');
    assert.equal(failing.stderr, 'oops\n');
    assert.equal(t.platform.sshHandshakes() - before, 1);

    await shared.close();
    assert.equal(existsSync(dir), false, 'the socket folder is removed');
    const check = await run('ssh', [...options, '-O', 'check', host]);
    assert.notEqual(check.code, 0, 'no master is left running');
    await shared.close(); // twice is harmless: the run's teardown may meet an already closed lease
  });

  it('re-opens a master that dropped, so a retried command works', async () => {
    const shared = shareConnections(sandboxTarget());
    const options = shared.target.settings['ssh-options'] as string[];
    const host = shared.target.get('ssh');
    try {
      const before = t.platform.sshHandshakes();
      assert.equal((await run('ssh', [...options, host, 'true'])).code, 0);
      // Mid-command: the master dies under the command, which fails as over a plain connection.
      t.sandbox.context.faults.inject({ kind: 'ssh-drop', params: { afterBytes: 0 } });
      const dropped = await run('ssh', [...options, host, 'echo never']);
      assert.equal(dropped.code, 255, `the drop reaches a command riding on the shared connection: ${JSON.stringify(dropped)}`);
      const retried = await run('ssh', [...options, host, 'echo again']);
      assert.equal(retried.code, 0, retried.stderr);
      assert.equal(retried.stdout, 'again\n');
      assert.equal(t.platform.sshHandshakes() - before, 2);
    } finally {
      await shared.close();
    }
  });

  it('leaves a target without ssh, or one that opts out with ssh-reuse: false, as it is', () => {
    const local = createTarget('local', false, {});
    assert.equal(shareConnections(local).target, local);
    const optedOut = createTarget('prod', false, { ssh: 'ops@host', 'ssh-options': [], 'ssh-reuse': false });
    assert.equal(shareConnections(optedOut).target, optedOut);
  });
});
