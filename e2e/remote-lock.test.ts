/**
 * The lock on the target itself (`lock: ssh`), on the sandbox VPS over the real OpenSSH client: two "laptops" (two
 * clones of the document in two working folders, each with its own state folder) cannot run at once; a holder from
 * another machine is only taken over when the operator names it.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EXIT } from '../common/exit.ts';
import { waitFor } from '../common/testing.ts';
import { fence, runCli } from '../runner/test/helpers.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/platform/testing.ts';

let vps: TestSandbox;
let root: string;

/** A laptop: its own clone of the document, working folder and state folder. */
function laptop(name: string): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(root, 'lock-drill.md'), path.join(dir, 'lock-drill.md'));
  return { dir, env: { XDG_STATE_HOME: path.join(dir, 'state') } };
}

const lockDir = () => path.join(vps.facts['vps-home']!, '.runbook', 'locks', 'lock-drill.lock');
const owner = () => JSON.parse(readFileSync(path.join(lockDir(), 'owner.json'), 'utf8')) as { runId: string; pid: number; host: string; user: string };

before(async () => {
  vps = await startTestSandbox();
  root = mkdtempSync(path.join(os.tmpdir(), 'remote-lock-'));
  // The step holds the run until the test drops a `go` file in the working folder: no fixed wait.
  writeFileSync(
    path.join(root, 'lock-drill.md'),
    [
      '---',
      'title: Lock drill',
      'targets:',
      '  vps:',
      `    ssh: ${vps.facts['ssh-host']}`,
      `    ssh-options: ["-F", "${vps.facts['ssh-config']}"]`,
      '    lock: ssh',
      'default-target: vps',
      '---',
      '# Hold',
      `${fence}ts step`,
      "console.log('holding')",
      // The holder's block waits for the test's file: a block in another process has no other channel from the test.
      "while (!fs.existsSync('go')) await sleep(25)",
      fence,
      '',
    ].join('\n'),
  );
});
after(async () => {
  await vps?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('the lock on the target (lock: ssh)', () => {
  it('refuses a second laptop while the first holds the VPS lock, naming the holder, and frees it at the end', async () => {
    const a = laptop('laptop-a');
    const b = laptop('laptop-b');
    // Laptop B would pass straight through its step: if the lock failed to refuse it, the test fails, never hangs.
    writeFileSync(path.join(b.dir, 'go'), '');
    let refused: Awaited<ReturnType<typeof runCli>> | undefined;
    let held: ReturnType<typeof owner> | undefined;
    const first = await runCli(['run', 'lock-drill.md'], {
      cwd: a.dir,
      env: a.env,
      onStdout: (text) => {
        if (refused || !text.includes('holding')) return;
        refused = { code: -1, signal: null, stdout: '', stderr: '' };
        held = existsSync(lockDir()) ? owner() : undefined;
        void runCli(['run', 'lock-drill.md'], { cwd: b.dir, env: b.env }).then((result) => {
          refused = result;
          writeFileSync(path.join(a.dir, 'go'), '');
        });
      },
    });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(held?.host, os.hostname(), 'laptop A held the lock on the VPS while its step ran');
    assert.equal(refused?.code, EXIT.locked, refused?.stderr);
    assert.match(refused?.stderr ?? '', /^runbook run: target vps \(curateme-vps:~\/\.runbook\/locks\/lock-drill\.lock\) is locked by run \S+ \(\S+, pid \d+ on \S+, since \S+\); .*--take-over-lock \S+/m);
    assert.equal(existsSync(lockDir()), false, 'the holder removed the lock at the end');
    const second = await runCli(['run', 'lock-drill.md'], { cwd: b.dir, env: b.env });
    assert.equal(second.code, 0, second.stderr);
  });

  it('takes over a lock from another machine only when the operator names its run, and one of this machine whose process is gone by itself', async () => {
    const c = laptop('laptop-c');
    writeFileSync(path.join(c.dir, 'go'), '');
    const plant = (holder: object) => {
      rmSync(lockDir(), { recursive: true, force: true });
      mkdirSync(lockDir(), { recursive: true });
      writeFileSync(path.join(lockDir(), 'owner.json'), JSON.stringify(holder));
    };
    plant({ pid: 4242, host: 'other-laptop', user: 'alice', runId: 'r-alice', since: '2026-12-01T09:00:00Z' });
    const refused = await runCli(['run', 'lock-drill.md'], { cwd: c.dir, env: c.env });
    assert.equal(refused.code, EXIT.locked);
    assert.match(refused.stderr, /is locked by run r-alice \(alice, pid 4242 on other-laptop, since 2026-12-01T09:00:00Z\); .*`--take-over-lock r-alice`/);
    const wrongName = await runCli(['run', 'lock-drill.md', '--take-over-lock', 'r-bob'], { cwd: c.dir, env: c.env });
    assert.equal(wrongName.code, EXIT.locked);
    assert.match(wrongName.stderr, /--take-over-lock names run r-bob, but the holder is run r-alice/);
    assert.equal(owner().runId, 'r-alice');
    const taken = await runCli(['run', 'lock-drill.md', '--take-over-lock', 'r-alice'], { cwd: c.dir, env: c.env });
    assert.equal(taken.code, 0, taken.stderr);
    assert.match(taken.stdout + taken.stderr, /taking over the lock .* run r-alice \(alice, pid 4242 on other-laptop/);
    assert.equal(existsSync(lockDir()), false);

    plant({ pid: 2 ** 22 + 7, host: os.hostname(), user: 'me', runId: 'r-crashed', since: '2026-12-01T09:00:00Z' });
    const stale = await runCli(['run', 'lock-drill.md'], { cwd: c.dir, env: c.env });
    assert.equal(stale.code, 0, stale.stderr);
    await waitFor('the lock released', () => !existsSync(lockDir()));
  });
});
