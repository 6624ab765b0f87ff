import { expectedHint } from '../../../common/closest.ts';
import { mentionsOf, type DriftRule } from '../types.ts';

export const symbol: DriftRule = {
  id: 'drift-symbol',
  description: 'Every `Class.method()` and `function()` the runbook mentions is defined in the platform repo',
  check(context) {
    const { repo, report } = context;
    for (const mention of mentionsOf(context, 'method')) {
      const info = repo.classes.get(mention.className);
      if (!info) {
        const hint = expectedHint(mention.className, repo.classes.keys(), 'expected a class the platform repo defines');
        report(`Unexpected \`${mention.text}\`: the platform repo defines no class \`${mention.className}\`, ${hint.text}`, mention.span, { actual: mention.className, expected: hint.expected });
        continue;
      }
      if (info.members.has(mention.member) || (!info.exact && repo.functions.has(mention.member))) continue;
      const hint = expectedHint(mention.member, info.members, `expected a method of \`${mention.className}\``);
      report(`Unexpected \`${mention.text}\`: class \`${mention.className}\` has no \`${mention.member}\`, ${hint.text}`, mention.span, { actual: mention.member, expected: hint.expected });
    }
    for (const mention of mentionsOf(context, 'function')) {
      if (repo.functions.has(mention.name)) continue;
      const hint = expectedHint(mention.name, repo.functions, 'expected a function the platform repo defines');
      report(`Unexpected function \`${mention.name}()\` that the platform repo does not define, ${hint.text}`, mention.span, { actual: mention.name, expected: hint.expected });
    }
  },
};
