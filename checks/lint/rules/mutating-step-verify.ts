import { fenceLineSpan } from '../../../runner/parse/index.ts';
import { stepMutation } from '../mutating.ts';
import type { LintRule } from '../types.ts';

/**
 * A step that changes the world must prove it worked before the next step builds on it. An `expect` block counts:
 * it fails the step when the documented output does not match.
 */
export const mutatingStepVerify: LintRule = {
  id: 'mutating-step-verify',
  description: 'A step that changes something (ssh/scp/docker, file writes, Graph writes, manual or confirm) has a verify',
  check({ runbook, lines, report }) {
    for (const step of runbook.steps) {
      if (step.verifies.length > 0 || step.expects.length > 0) continue;
      const why = stepMutation(step);
      if (!why) continue;
      report(
        `Unexpected mutating step \`${step.id}\` (it ${why}) with no verify, expected a \`ts verify\` block after it`,
        fenceLineSpan(step.block.span, lines.text(step.block.span.start.line)),
      );
    }
  },
};
