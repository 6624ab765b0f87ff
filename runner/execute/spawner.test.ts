import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { $ } from 'zx';
import { createSpawner } from './spawner.ts';

const spawner = createSpawner();
after(() => spawner.close());
const sh = $({ spawn: spawner.spawn, quiet: true });

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('spawner (commands started from the small host process)', () => {
  it('returns stdout, stderr and the exit code as zx expects', async () => {
    const ok = await sh`echo out; echo err >&2`;
    assert.equal(ok.stdout, 'out\n');
    assert.equal(ok.stderr, 'err\n');
    assert.equal(ok.exitCode, 0);
    const failed = await sh`exit 3`.nothrow();
    assert.equal(failed.exitCode, 3);
    await assert.rejects(sh`exit 4`, (error: { exitCode?: number }) => error.exitCode === 4);
  });

  it('passes input to the command', async () => {
    const output = await sh({ input: 'line one\nline two\n' })`wc -l`;
    assert.equal(output.stdout.trim(), '2');
  });

  it('streams large output completely and in order', async () => {
    const output = await sh`seq 1 100000`;
    const lines = output.stdout.trim().split('\n');
    assert.equal(lines.length, 100000);
    assert.equal(lines[0], '1');
    assert.equal(lines.at(-1), '100000');
  });

  it('runs in the given cwd and env', async () => {
    const output = await $({ spawn: spawner.spawn, quiet: true, cwd: '/tmp', env: { ...process.env, MARKER: 'm-42' } })`pwd; echo $MARKER`;
    assert.equal(output.stdout, '/tmp\nm-42\n');
  });

  it('kills the command when the abort signal fires', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = $({ spawn: spawner.spawn, quiet: true, signal: controller.signal })`echo $$; sleep 30`;
    const pid = await firstLine(pending);
    controller.abort();
    await assert.rejects(pending);
    assert.ok(Date.now() - started < 5000);
    assert.equal(await gone(pid), true);
  });

  it('takes running commands down with it when closed', async () => {
    const local = createSpawner();
    const pending = $({ spawn: local.spawn, quiet: true, nothrow: true })`echo $$; sleep 30`;
    const pid = await firstLine(pending);
    local.close();
    const output = await pending;
    assert.notEqual(output.exitCode, 0);
    assert.equal(await gone(pid), true);
  });
});

/** The pid a command printed first (`echo $$`). */
async function firstLine(pending: { stdout: NodeJS.ReadableStream }): Promise<number> {
  return new Promise((resolve) => pending.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
}

/** Waits (briefly) for a process to be gone: a signal is delivered at once, but dying takes a moment. */
async function gone(pid: number): Promise<boolean> {
  for (let waited = 0; waited < 2000; waited += 50) {
    if (!alive(pid)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
