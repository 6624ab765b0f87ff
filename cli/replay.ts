import type { Reporter } from '../runner/report/events.ts';
import type { SandboxProvider } from '../runner/run.ts';
import { sandboxRun, validationTarget } from '../runner/validate.ts';

export interface ReplayFailure {
  message: string;
  line: number;
  column: number;
  blockRole: string;
}

/** `runbook check --replay`: runs the document on its sandbox target and returns what failed, at its position. */
export function createReplay(sandbox: SandboxProvider, workspace: string) {
  return async (file: string): Promise<{ failures: ReplayFailure[] }> => {
    const failures: ReplayFailure[] = [];
    const collect: Reporter = {
      name: 'replay',
      'on:block-end'(event) {
        if (event.failure) failures.push({ message: event.failure.message, line: event.failure.location.line, column: event.failure.location.column, blockRole: event.role });
      },
      'on:step-end'(event) {
        const failure = event.failure;
        if (failure && !failures.some((known) => known.line === failure.location.line)) {
          failures.push({ message: failure.message, line: failure.location.line, column: failure.location.column, blockRole: 'step' });
        }
      },
    };
    await sandboxRun({ file, target: (runbook) => validationTarget(runbook), reporters: [collect], sandbox, workspace });
    return { failures };
  };
}
