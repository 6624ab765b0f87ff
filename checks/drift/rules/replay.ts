import type { DriftRule } from '../types.ts';

/**
 * With `--replay`, a verify or expect that fails on the sandbox is drift between the document and the system. The
 * run's own messages are passed on unchanged: the same place, reason, rule id (`run-verify`, ...) and note as the run
 * printed.
 */
export const replay: DriftRule = {
  id: 'drift-replay',
  description: 'With --replay, every verify and expect block passes when the runbook runs on the sandbox',
  async check({ runbook, replay: run, report, relay }) {
    if (!run) return;
    let result: Awaited<ReturnType<typeof run>>;
    try {
      result = await run(runbook.file);
    } catch (error) {
      report(`Unexpected replay failure: ${error instanceof Error ? error.message : String(error)}, expected the runbook to run on the sandbox`, { line: 1, column: 1 });
      return;
    }
    for (const message of result.messages) relay(message);
  },
};
