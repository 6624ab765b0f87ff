import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runFile } from '../runner/run.ts';
import { repoPath } from '../common/repo.ts';
import { startSandbox } from '../sandbox/index.ts';
import { platformOf } from '../sandbox/platform/index.ts';
import type { BenchResult } from './runner.ts';

/**
 * The rotation as `npm start` runs it (sandbox start included, in one process) and the SSH handshakes it makes: the
 * sandbox's SSH server counts authenticated connections. Goal: one per host.
 */
export async function benchRotation(): Promise<BenchResult[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'runbook-bench-rotation-'));
  try {
    const started = performance.now();
    let handshakes = () => Number.NaN;
    const result = await runFile({
      file: repoPath('runbook.md'),
      target: 'sandbox',
      workspace: dir,
      reporters: [],
      sandbox: async () => {
        const handle = await startSandbox({ dir: path.join(dir, 'sandbox') });
        const platform = platformOf(handle.context);
        handshakes = () => platform?.sshHandshakes() ?? Number.NaN;
        return { facts: { ...handle.facts }, release: () => handle.stop() };
      },
    });
    const wall = performance.now() - started;
    const count = handshakes();
    const passed = result.exitCode === 0;
    return [
      { name: `rotation (runbook.md on the sandbox, its start included${passed ? '' : `; FAILED, exit ${result.exitCode}`})`, value: wall / 1000, unit: 's', target: 5, pass: passed && wall <= 5000 },
      { name: 'SSH handshakes per rotation', value: count, unit: '', target: 1, pass: count <= 1 },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
