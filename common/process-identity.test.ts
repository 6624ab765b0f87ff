import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { isAlive } from './pid.ts';
import { eventually } from './testing.ts';
import { processStat, signalGroup, startTime } from './process-identity.mjs';

const started: number[] = [];
after(() => {
  for (const pid of started) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
});

/** A command leading its own process group, as the runner starts a block's commands. */
function groupLeader(script: string): ChildProcess & { pid: number } {
  const child = spawn('sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  started.push(child.pid!);
  return child as ChildProcess & { pid: number };
}

async function firstLine(child: ChildProcess): Promise<number> {
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return Number(chunk.toString().trim());
}

describe('process identity (a pid and its start time)', () => {
  it('reads a live process\'s state and start time, and says when a pid names no process', async () => {
    const child = groupLeader('exec sleep 30');
    const stat = processStat(child.pid);
    assert.ok(typeof stat === 'object');
    assert.match(stat.started, /^\d+$/);
    assert.equal(startTime(child.pid), stat.started);
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal(processStat(child.pid), 'gone');
    assert.equal(startTime(child.pid), undefined);
  });

  it('signals a group whose leader is the process recorded', async () => {
    const child = groupLeader('exec sleep 30');
    const exited = once(child, 'exit');
    assert.equal(signalGroup(child.pid, startTime(child.pid), 'SIGKILL'), true);
    assert.deepEqual(await exited, [null, 'SIGKILL']);
  });

  it('leaves alone a process that holds the number of a group long gone (another start time)', async () => {
    const child = groupLeader('exec sleep 30');
    // As if the group recorded had ended and the kernel had given its number to this process since.
    const earlier = String(Number(startTime(child.pid)) - 1);
    assert.equal(signalGroup(child.pid, earlier, 'SIGKILL'), false);
    assert.equal(isAlive(child.pid), true);
    assert.equal(signalGroup(child.pid, undefined, 'SIGKILL'), true, 'with no start time recorded, it signals as before');
  });

  it('signals what is left of a group whose leader has exited (a background job)', async () => {
    const child = groupLeader('sleep 30 & echo $!');
    const recorded = startTime(child.pid);
    const job = await firstLine(child);
    started.push(job);
    await once(child, 'exit');
    assert.equal(isAlive(job), true);
    assert.equal(signalGroup(child.pid, recorded, 'SIGKILL'), true);
    assert.equal(await eventually(() => !isAlive(job), 2000), true);
  });

  it('says it sent nothing when the group is gone', async () => {
    const child = groupLeader('exit 0');
    const recorded = startTime(child.pid);
    await once(child, 'exit');
    assert.equal(signalGroup(child.pid, recorded, 'SIGTERM'), false);
  });
});
