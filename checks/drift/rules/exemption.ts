import { matchesAny } from '../exemptions.ts';
import type { DriftRule } from '../types.ts';

/** An exemption must say why, and must still exempt something: a stale one hides the next real drift. */
export const exemption: DriftRule = {
  id: 'drift-ignore',
  description: 'Every drift-ignore has a reason and names a mention it covers',
  check({ exemptions, allMentions, report }) {
    for (const item of exemptions) {
      if (item.reason === undefined) {
        report(`Unexpected drift-ignore for \`${item.mention}\` without a reason, expected reason="why this mention is not drift"`, item.span);
      } else if (!matchesAny(item, allMentions)) {
        report(`Unexpected drift-ignore for \`${item.mention}\` that covers no mention, expected it right before the element that mentions it`, item.span, { severity: 'warning' });
      }
    }
  },
};
