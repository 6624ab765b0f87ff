import path from 'node:path';
import type { SandboxLease } from '../runner/run.ts';

/**
 * `--target sandbox`: a sandbox already started with `runbook sandbox up` in this workspace is used as it is (its
 * state survives this process, which is what `kill -9` + `runbook resume` needs); otherwise an embedded one is
 * started in this process, under `.runbook/sandbox-run/`, and stopped when the run ends.
 */
export async function embeddedSandbox(workspace: string): Promise<SandboxLease> {
  const { runningSandbox } = await import('../sandbox/state.ts');
  const { defaultSandboxDir, startSandbox } = await import('../sandbox/index.ts');
  const running = runningSandbox(defaultSandboxDir(workspace));
  if (running) return { facts: { ...running.facts }, release: async () => {} };
  const handle = await startSandbox({ dir: path.join(workspace, '.runbook', 'sandbox-run') });
  return { facts: { ...handle.facts }, release: () => handle.stop() };
}
