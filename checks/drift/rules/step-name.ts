import { mentionsOf, type DriftRule } from '../types.ts';

const squash = (text: string) => text.replace(/\s+/g, ' ');

export const stepName: DriftRule = {
  id: 'drift-step-name',
  description: 'Every step of a platform script the runbook names in quotes (its "…" step) is still announced by the script',
  check(context) {
    const { repo, report } = context;
    const mentions = mentionsOf(context, 'step-name');
    if (mentions.length === 0) return;
    const sources = repo.sources.map(squash);
    for (const mention of mentions) {
      if (sources.some((source) => source.includes(squash(mention.stepName)))) continue;
      report(`Unexpected step name "${mention.stepName}" that no platform script prints, expected the step as the script announces it`, mention.span, {
        actual: mention.stepName,
      });
    }
  },
};
