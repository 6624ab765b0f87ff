import { codeContains } from '../repo-index.ts';
import { mentionsOf, type DriftRule } from '../types.ts';

export const stepName: DriftRule = {
  id: 'drift-step-name',
  description: 'Every step of a platform script the runbook names in quotes (its "…" step) is still announced by the script',
  check(context) {
    for (const mention of mentionsOf(context, 'step-name')) {
      if (codeContains(context.repo, mention.stepName)) continue;
      context.report(`Unexpected step name "${mention.stepName}" that no platform script prints, expected the step as the script announces it`, mention.span, {
        actual: mention.stepName,
      });
    }
  },
};
