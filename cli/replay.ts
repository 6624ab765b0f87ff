import { formatDiagnostic } from '../common/diagnostics.ts';
import type { Reporter, RunMessage } from '../runner/report/events.ts';
import type { SandboxProvider } from '../runner/run.ts';
import { sandboxRun, validationTarget } from '../runner/validate.ts';

/**
 * `runbook check --replay`: runs the document on its sandbox target and returns the run's failure messages as they
 * are (a step's failure is usually its failed block's message: it is given once).
 */
export function createReplay(sandbox: SandboxProvider, workspace: string) {
  return async (file: string): Promise<{ messages: RunMessage[] }> => {
    const messages: RunMessage[] = [];
    const seen = new Set<string>();
    const keep = (message: RunMessage | undefined) => {
      if (!message || seen.has(formatDiagnostic(message))) return;
      seen.add(formatDiagnostic(message));
      messages.push(message);
    };
    const collect: Reporter = {
      name: 'replay',
      'on:block-end': (event) => keep(event.failure),
      'on:step-end': (event) => keep(event.failure),
      'on:rollback-end': (event) => keep(event.failure),
    };
    await sandboxRun({ file, target: (runbook) => validationTarget(runbook), reporters: [collect], sandbox, workspace });
    return { messages };
  };
}
