import type { DriftRule } from '../types.ts';

/** With `--replay`, a verify or expect that fails on the sandbox is drift between the document and the system. */
export const replay: DriftRule = {
  id: 'drift-replay',
  description: 'With --replay, every verify and expect block passes when the runbook runs on the sandbox',
  async check({ runbook, replay: run, report }) {
    if (!run) return;
    let result: Awaited<ReturnType<typeof run>>;
    try {
      result = await run(runbook.file);
    } catch (error) {
      report(`Unexpected replay failure: ${error instanceof Error ? error.message : String(error)}, expected the runbook to run on the sandbox`, { line: 1, column: 1 });
      return;
    }
    for (const failure of result.failures) {
      report(`Unexpected failing \`${failure.blockRole}\` on replay: ${failure.message}, expected it to pass on the sandbox`, {
        line: failure.line,
        column: failure.column,
      });
    }
  },
};
