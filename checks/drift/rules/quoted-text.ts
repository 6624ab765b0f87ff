import { codeContains } from '../repo-index.ts';
import { mentionsOf, type DriftRule } from '../types.ts';

/** Text the runbook quotes from the platform code must still be in it, verbatim (whitespace runs aside). */
function quotedTextRule(kind: 'error-text' | 'step-name', id: string, description: string, message: (text: string) => string): DriftRule {
  return {
    id,
    description,
    check(context) {
      for (const mention of mentionsOf(context, kind)) {
        if (!codeContains(context.repo, mention.text)) context.report(message(mention.text), mention.span, { actual: mention.text });
      }
    },
  };
}

export const errorText = quotedTextRule(
  'error-text',
  'drift-error-text',
  'Every error text the runbook quotes (`RuntimeError: …`, raises "…") appears in the platform code',
  (text) => `Unexpected error text "${text}" that no platform code contains, expected the message as the code raises it`,
);

export const stepName = quotedTextRule(
  'step-name',
  'drift-step-name',
  'Every step of a platform script the runbook names in quotes (its "…" step) is still announced by the script',
  (text) => `Unexpected step name "${text}" that no platform script prints, expected the step as the script announces it`,
);
