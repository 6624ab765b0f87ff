import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { repoPath } from '../../../common/repo.ts';
import { waitFor } from '../testing.ts';

/** Whether `pid` still runs: gone, or a zombie waiting for init to reap it (PID 1 here can be slow), is not. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

describe('a container and its sandbox', () => {
  it('no container outlives its sandbox: each exits when the sandbox process is killed with SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-lifetime-'));
    const sandbox = spawn(process.execPath, ['--import', 'tsx', repoPath('sandbox', 'test', 'hold-sandbox.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let containers: Array<{ name: string; pid: number }> = [];
    try {
      const [line] = (await once(createInterface({ input: sandbox.stdout! }), 'line')) as [string];
      containers = JSON.parse(line) as typeof containers;
      // The backends (Node, watching the clock stream) and the idle services (a shell reading a pipe) alike.
      assert.deepEqual(containers.map((c) => c.name).sort(), ['curateme-backend-b2b', 'curateme-backend-gateway', 'curateme-celery-beat', 'curateme-celery-worker', 'curateme-runner-agent']);
      assert.ok(containers.every((c) => running(c.pid)), JSON.stringify(containers));
      sandbox.kill('SIGKILL');
      await once(sandbox, 'exit');
      // Polled: another process's exit (these are not this test's children) has no event in Node.
      await waitFor('every container to exit', () => containers.every((c) => !running(c.pid)) || undefined, 10_000).catch(() => {
        throw new Error(`still running after the sandbox died: ${containers.filter((c) => running(c.pid)).map((c) => c.name).join(', ')}`);
      });
    } finally {
      sandbox.kill('SIGKILL');
      for (const c of containers) if (running(c.pid)) process.kill(c.pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
