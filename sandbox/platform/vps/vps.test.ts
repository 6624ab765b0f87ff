import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestSandbox, type TestSandbox } from '../testing.ts';

describe('the sandbox VPS over the real OpenSSH client', () => {
  let t: TestSandbox;
  const local = mkdtempSync(join(tmpdir(), 'vps-local-'));
  before(async () => { t = await startTestSandbox({ startContainers: false }); });
  after(async () => { await t?.stop(); });

  it('runs commands with the VPS home, its PATH and faithful stdout, stderr and exit code', async () => {
    const r = await t.ssh('echo "$HOME"; pwd; command -v docker; echo oops >&2; exit 3');
    assert.equal(r.code, 3);
    const [home, cwd, docker] = r.stdout.trim().split('\n');
    assert.equal(home, t.facts['vps-home']);
    assert.equal(cwd, t.facts['vps-home']);
    assert.equal(docker, join(t.facts['vps-home']!, 'bin', 'docker'));
    assert.equal(r.stderr, 'oops\n');
  });

  it('pipes stdin and runs a python heredoc the way the runbook writes it', async () => {
    const r = await t.ssh(`cd ~/platform && python3 - <<"PY"
import pathlib
lines = pathlib.Path(".env.production").read_text().splitlines()
print("keys", sum(1 for l in lines if l.startswith("MICROSOFT_GRAPH_")))
PY
wc -c`, 'twelve bytes');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^keys 5\n12\n$/);
  });

  it('greps the env file without printing the secret and has shred', async () => {
    const r = await t.ssh("cd ~/platform && grep -c '^MICROSOFT_GRAPH_CLIENT_SECRET=.\\+' .env.production && stat -c %a .env.production && command -v shred");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^1\n600\n.*shred\n$/);
  });

  it('gives commands the umask sshd gives a login session (022), whatever this process has', async () => {
    const r = await t.ssh('umask; touch ~/tmp/plain && stat -c %a ~/tmp/plain && rm ~/tmp/plain');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '0022\n644\n');
  });

  for (const mode of ['sftp', 'legacy'] as const) {
    it(`scp (${mode} protocol) uploads into a name mktemp made on the VPS, keeping mode 600, and downloads`, async () => {
      const src = join(local, `secret-${mode}.txt`);
      // The local copy's mode does not decide the upload's: the file mktemp made (600) is written into, never widened.
      writeFileSync(src, 'not-a-real-secret-value\n', { mode: 0o644 });
      const flags = mode === 'legacy' ? ['-O'] : [];
      const made = await t.ssh(`mktemp ${t.facts['vps-tmp']}/graph_secret.XXXXXXXXXX`);
      assert.equal(made.code, 0, made.stderr);
      const target = made.stdout.trim();
      assert.match(target, /\/graph_secret\.[A-Za-z0-9]{10}$/);
      assert.equal(statSync(target).mode & 0o777, 0o600);
      const up = await t.scp(...flags, src, `${t.facts['ssh-host']}:${target}`);
      assert.equal(up.code, 0, up.stderr);
      assert.equal(statSync(target).mode & 0o777, 0o600);
      assert.equal(readFileSync(target, 'utf8'), 'not-a-real-secret-value\n');
      const back = join(local, `back-${mode}.txt`);
      const down = await t.scp(...flags, `${t.facts['ssh-host']}:~/platform/README.md`, back);
      assert.equal(down.code, 0, down.stderr);
      assert.match(readFileSync(back, 'utf8'), /platform \(fixture\)/);
      const shred = await t.ssh(`shred -u ${target} 2>/dev/null || rm -f ${target}; test ! -e ${target} && echo gone`);
      assert.equal(shred.stdout, 'gone\n');
    });
  }

  it('refuses a key it does not know', async () => {
    const stranger = join(local, 'stranger');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
    // -i alone would add to the config's IdentityFile; a second config with only the stranger's key replaces it.
    const config = join(local, 'stranger_config');
    writeFileSync(config, readFileSync(t.facts['ssh-config']!, 'utf8').replace(/IdentityFile .*/, `IdentityFile ${stranger}`));
    // Asynchronously: the server runs in this process, a sync spawn would starve it.
    const r = await new Promise<{ status: number; stderr: string }>((resolve) => {
      execFile('ssh', ['-F', config, t.facts['ssh-host']!, 'true'], (err, _out, stderr) => resolve({ status: err ? Number((err as { code?: number }).code) : 0, stderr }));
    });
    assert.equal(r.status, 255);
    assert.match(r.stderr, /Permission denied \(publickey\)/);
  });

  it('drops the connection at connect, or mid-transfer, when an ssh-drop fault is armed', async () => {
    t.sandbox.context.faults.inject({ kind: 'ssh-drop' });
    const atConnect = await t.ssh('echo hi');
    assert.equal(atConnect.code, 255);
    assert.equal(atConnect.stdout, '');

    const big = join(local, 'big.bin');
    writeFileSync(big, Buffer.alloc(512 * 1024, 1));
    t.sandbox.context.faults.inject({ kind: 'ssh-drop', params: { afterBytes: 64 * 1024 } });
    const mid = await t.scp(big, `${t.facts['ssh-host']}:tmp/big.bin`);
    assert.notEqual(mid.code, 0);
    const again = await t.ssh('echo back');
    assert.equal(again.stdout, 'back\n');
  });
});
