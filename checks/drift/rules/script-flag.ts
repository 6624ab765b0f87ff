import { expectedHint } from '../closest.ts';
import { mentionsOf, reportMissing, type DriftRule } from '../types.ts';

/**
 * A claim: a `--flag` after a script or program the repo has, on its command line (`./deploy.sh --backend`,
 * `zx --quiet x.mjs`); flags before it belong to the command that runs it (`docker exec --env X c /x.sh`). A flag
 * paired with a script only by sharing a line of prose is checked when a binding says it was there.
 */
export const scriptFlag: DriftRule = {
  id: 'drift-flag',
  description: 'Every `--flag` given to a platform script or program (after it, on its command line) is one it knows',
  async check(context) {
    const { repo } = context;
    for (const mention of mentionsOf(context, 'flag')) {
      const known = repo.flags.get(mention.script);
      if (!known) continue; // Not a repo script, or a missing one (drift-path reports that).
      const at = known.get(mention.flag);
      if (at) {
        context.bind(mention, at, mention.flag);
        continue;
      }
      const claim = context.claimed(mention);
      if (!claim || (claim === true && repo.openFlags.has(mention.script))) continue;
      const list = [...known.keys()].sort();
      const near = expectedHint(mention.flag, list, '').expected?.[0];
      const expected = near && context.previous.has(`flag:${mention.script} ${mention.flag}`) ? `\`${near}\`` : list.length ? `one of: ${list.join(', ')}` : 'no flags';
      await reportMissing(context, mention, `Unexpected flag \`${mention.flag}\` for \`${mention.script}\`, expected ${expected}`, { actual: mention.flag, expected: list });
    }
  },
};
