import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { eventually } from '../../common/testing.ts';
import type { CommandIO } from '../../common/io.ts';
import { sandboxClock, sandboxDown, sandboxFault, sandboxStatus, sandboxUp } from '../../sandbox/commands.ts';
import { isAlive, readState } from '../../sandbox/state.ts';
import { runCli } from '../../runner/test/helpers.ts';

/** Each sandbox command with its output captured, as `runbook sandbox COMMAND` runs it. */
async function capture(command: (io: CommandIO) => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await command({ stdout: (line) => out.push(line), stderr: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('runbook sandbox up | status | clock | fault | down', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-cli-'));
  after(async () => {
    await capture((io) => sandboxDown({ dir }, io));
    rmSync(dir, { recursive: true, force: true });
  });

  test('fault refuses a kind the sandbox does not know (exit 2), and --help lists the kinds', async () => {
    const bogus = await runCli(['sandbox', 'fault', 'bogus', '--dir', dir]);
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /expected one of: clear, token, graph, ssh-drop/);
    assert.equal((await runCli(['sandbox', 'fault', 'token', '--status', 'abc', '--dir', dir])).code, 2);
    const help = await runCli(['sandbox', '--help']);
    assert.match(help.stdout, /^ {2}container-unhealthy +the next backend container/m);
  });

  test('status fails when nothing runs', async () => {
    const result = await capture((io) => sandboxStatus({ dir }, io));
    assert.equal(result.code, 1);
    assert.match(result.out, /not running/);
  });

  test('up starts a background sandbox that status, clock and fault talk to; down stops it', async () => {
    const up = await capture((io) => sandboxUp({ dir }, io));
    assert.equal(up.code, 0, up.err);
    assert.match(up.out, /^authority\s+https:\/\/localhost:\d+$/m);
    assert.match(up.out, /^ca-file\s+.+ca\.crt$/m);
    const pid = readState(dir)?.pid as number;
    assert.ok(isAlive(pid));

    assert.equal((await capture((io) => sandboxClock({ dir, advance: '12h' }, io))).code, 0);
    assert.equal((await capture((io) => sandboxFault({ dir, kind: 'token', count: 2, status: 429 }, io))).code, 0);
    const status = await capture((io) => sandboxStatus({ dir, json: true }, io));
    assert.equal(status.code, 0, status.err);
    const live = JSON.parse(status.out) as { clock: { offsetMs: number }; faults: Array<{ kind: string; count: number; params: Record<string, number> }> };
    assert.ok(live.clock.offsetMs >= 12 * 3_600_000 - 1000);
    assert.deepEqual(live.faults, [{ kind: 'token', count: 2, params: { status: 429 } }]);
    assert.equal((await capture((io) => sandboxClock({ dir, advance: 'later' }, io))).code, 2);

    const down = await capture((io) => sandboxDown({ dir }, io));
    assert.equal(down.code, 0);
    assert.equal(isAlive(pid), false);
    assert.equal(readState(dir), undefined);
    assert.equal((await capture((io) => sandboxStatus({ dir }, io))).code, 1);
  });

  test('a sandbox started with --watch-pid stops when that process dies', async () => {
    // Not a wait: a stand-in parent that lives until the test kills it (the timer only keeps it alive).
    const parent = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const up = await capture((io) => sandboxUp({ dir, watchPid: parent.pid }, io));
    assert.equal(up.code, 0, up.err);
    const pid = readState(dir)?.pid as number;
    parent.kill('SIGKILL');
    assert.ok(await eventually(() => !isAlive(pid), 8_000), 'daemon exited after its parent');
    assert.equal(readState(dir), undefined);
  });
});
