import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { processState } from '../../common/process-identity.mjs';
import { acquireLock, defaultStateDir, lockKey, LockedError } from './local.ts';

const tempState = () => mkdtempSync(path.join(os.tmpdir(), 'runbook-state-'));
/** A holder that cannot exist: pids stop below 2^22 on Linux. */
const deadHolder = (runId: string) => ({ pid: 2 ** 22 + 7, host: os.hostname(), user: 'gone', runId, since: '2026-01-01T00:00:00Z' });

describe('the run lock', () => {
  it('lives in the per-user state folder (700, files 600), keyed by target and real path whatever the cwd', () => {
    assert.equal(defaultStateDir({ XDG_STATE_HOME: '/x/state' }), '/x/state/runbook');
    assert.equal(defaultStateDir({ XDG_STATE_HOME: 'relative' }), path.join(os.homedir(), '.local', 'state', 'runbook'));
    const dir = tempState();
    const doc = path.join(dir, 'rb.md');
    writeFileSync(doc, '# A\n');
    const link = path.join(dir, 'alias.md');
    symlinkSync(doc, link);
    assert.equal(lockKey('prod', doc), lockKey('prod', link), 'the real path decides');
    assert.notEqual(lockKey('prod', doc), lockKey('sandbox', doc));
    const state = path.join(dir, 'state');
    const lock = acquireLock(state, lockKey('prod', doc), 'run-1');
    assert.equal(statSync(state).mode & 0o777, 0o700);
    assert.equal(statSync(path.join(state, 'locks')).mode & 0o777, 0o700);
    assert.equal(statSync(lock.file).mode & 0o777, 0o600);
    assert.throws(() => acquireLock(state, lockKey('prod', link), 'run-2'), (error: unknown) => error instanceof LockedError && /locked by run run-1 \(\S+, pid \d+ on /.test(error.message));
    lock.release();
    acquireLock(state, lockKey('prod', doc), 'run-3').release();
  });

  it('counts a holder killed but not yet reaped (a zombie) as gone', async () => {
    const state = tempState();
    acquireLock(state, 'probe', 'probe').release();
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid!;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(pid, 'SIGKILL');
    // Node reaps its children from the event loop: until this synchronous stretch ends, the killed child is a zombie.
    const deadline = Date.now() + 5_000;
    while (processState(pid) !== 'Z' && Date.now() < deadline);
    assert.equal(processState(pid), 'Z');
    process.kill(pid, 0); // It still exists: kill(pid, 0) alone would call it alive.
    writeFileSync(path.join(state, 'locks', 'zombie.lock'), JSON.stringify({ ...deadHolder('zombie-run'), pid }));
    acquireLock(state, 'zombie', 'after-zombie').release();
    await exited;
  });

  it('has exactly one holder in 200 trials of 8 simultaneous contenders over a stale lock', async () => {
    const state = tempState();
    const key = 'contended';
    acquireLock(state, 'probe', 'probe').release();
    const lockFile = path.join(state, 'locks', `${key}.lock`);
    const barrier = new SharedArrayBuffer(4);
    const flag = new Int32Array(barrier);
    // The lock module as one plain ES module the workers import directly.
    const lockModule = path.join(state, 'local.mjs');
    await build({ entryPoints: [fileURLToPath(new URL('./local.ts', import.meta.url))], bundle: true, format: 'esm', platform: 'node', outfile: lockModule, logLevel: 'silent' });
    const workers = Array.from({ length: 8 }, (_, id) => new Worker(new URL('./contender.worker.mjs', import.meta.url), { workerData: { stateDir: state, key, id, barrier, lockModule: pathToFileURL(lockModule).href } }));
    after(() => Promise.all(workers.map((worker) => worker.terminate())));
    await Promise.all(workers.map((worker) => new Promise((resolve) => worker.once('message', resolve))));
    const failures: string[] = [];
    for (let trial = 1; trial <= 200; trial += 1) {
      writeFileSync(lockFile, JSON.stringify(deadHolder(`stale-${trial}`)));
      const ready = workers.map((worker) => new Promise((resolve) => worker.once('message', resolve)));
      const results = workers.map((worker) => new Promise<{ won: boolean; locked: boolean; error?: string }>((resolve) => {
        const onMessage = (message: { trial?: number; won: boolean; locked: boolean; error?: string }) => {
          if (message.trial === trial) {
            worker.off('message', onMessage);
            resolve(message);
          }
        };
        worker.on('message', onMessage);
      }));
      for (const worker of workers) worker.postMessage(trial);
      await Promise.all(ready);
      Atomics.store(flag, 0, trial);
      Atomics.notify(flag, 0);
      const outcome = await Promise.all(results);
      const winners = outcome.filter((result) => result.won).length;
      const errors = outcome.flatMap((result) => (result.error ? [result.error] : []));
      if (winners !== 1 || errors.length) failures.push(`trial ${trial}: ${winners} holders${errors.length ? `, errors: ${errors.join('; ')}` : ''}`);
    }
    assert.deepEqual(failures, []);
    assert.deepEqual(readdirSync(path.join(state, 'locks')).filter((name) => name.includes('.break-') || name.endsWith('.tmp')), [], 'no claim or temp file is left');
  });
});
