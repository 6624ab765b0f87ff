import { closest, expectedHint } from '../../../common/closest.ts';
import { mentionsOf, type DriftRule } from '../types.ts';

export const envVar: DriftRule = {
  id: 'drift-env',
  description: 'Every environment variable the runbook mentions is named by the platform code (docs and .env examples do not count)',
  check(context) {
    const { repo, report } = context;
    const names = [...repo.envVars];
    for (const mention of mentionsOf(context, 'env')) {
      if (mention.prefix ? names.some((name) => name.startsWith(`${mention.name}_`)) : repo.envVars.has(mention.name)) continue;
      // `not.toContain('CLIENT_SECRET')`: the tail of a real name, used to match it, not a name of its own.
      if (!mention.prefix && names.some((name) => name.endsWith(`_${mention.name}`))) continue;
      // A renamed variable usually keeps its last word (`..._SECRET`): prefer those over a near-but-different name.
      const tail = mention.name.slice(mention.name.lastIndexOf('_'));
      const renamed = mention.prefix ? undefined : closest(mention.name, names.filter((name) => name.endsWith(tail)), Math.ceil(mention.name.length / 2));
      const hint = renamed ? { text: `expected \`${renamed}\``, expected: [renamed] } : expectedHint(mention.name, names, 'expected a variable the platform code reads');
      const what = mention.prefix ? `env vars \`${mention.text}\`` : `env var \`${mention.name}\``;
      report(`Unexpected ${what} that no platform code names, ${hint.text}`, mention.span, { actual: mention.text, expected: hint.expected });
    }
  },
};
