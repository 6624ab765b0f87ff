import path from 'node:path';
import type { SandboxLease } from './run.ts';

/**
 * `--target sandbox` starts the embedded sandbox tenant in this process and stops it when the run ends. Its state
 * lives under the workspace's `.runbook/` so a run never touches a sandbox started by `runbook sandbox up`.
 */
export async function embeddedSandbox(workspace: string): Promise<SandboxLease> {
  const { startSandbox } = await import('../sandbox/index.ts');
  const handle = await startSandbox({ dir: path.join(workspace, '.runbook', 'sandbox-run') });
  return { facts: { ...handle.facts }, release: () => handle.stop() };
}
