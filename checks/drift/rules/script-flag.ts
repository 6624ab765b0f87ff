import { mentionsOf, type DriftRule } from '../types.ts';

export const scriptFlag: DriftRule = {
  id: 'drift-flag',
  description: 'Every `--flag` given to a platform script (on the same command or line) is one that script knows',
  check(context) {
    const { repo, report } = context;
    for (const mention of mentionsOf(context, 'flag')) {
      const known = repo.flags.get(mention.script);
      if (!known) continue; // Not a repo script, or a missing one (drift-path reports that).
      if (known.has(mention.flag)) continue;
      const list = [...known].sort();
      report(
        `Unexpected flag \`${mention.flag}\` for \`${mention.script}\`, expected ${list.length ? `one of: ${list.join(', ')}` : 'no flags'}`,
        mention.span,
        { actual: mention.flag, expected: list },
      );
    }
  },
};
