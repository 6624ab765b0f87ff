import { mentionsOf, type DriftRule } from '../types.ts';

const squash = (text: string) => text.replace(/\s+/g, ' ');

export const errorText: DriftRule = {
  id: 'drift-error-text',
  description: 'Every error text the runbook quotes (`RuntimeError: …`, raises "…") appears in the platform code',
  check(context) {
    const { repo, report } = context;
    const mentions = mentionsOf(context, 'error-text');
    if (mentions.length === 0) return;
    const sources = repo.sources.map(squash);
    for (const mention of mentions) {
      const text = squash(mention.errorText);
      if (sources.some((source) => source.includes(text))) continue;
      report(`Unexpected error text "${mention.errorText}" that no platform code contains, expected the message as the code raises it`, mention.span, { actual: mention.errorText });
    }
  },
};
