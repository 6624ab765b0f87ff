import { expectedHint } from '../closest.ts';
import { mentionsOf, reportMissing, type DriftRule } from '../types.ts';

const ROOT_MAKEFILES = ['GNUmakefile', 'makefile', 'Makefile'];

/** A claim: a target a `make` command line names, in the Makefile it reads (`-C dir`, `-f file`, else the root one). */
export const makeTarget: DriftRule = {
  id: 'drift-make',
  description: 'Every `make TARGET` the runbook runs is a target of the platform repo\'s Makefile',
  async check(context) {
    const { repo } = context;
    for (const mention of mentionsOf(context, 'make')) {
      const makefile = mention.makefile?.replace(/^\.\//, '') ?? ROOT_MAKEFILES.find((name) => repo.makeTargets.has(name));
      const targets = makefile === undefined ? undefined : repo.makeTargets.get(makefile);
      if (!targets) continue; // No Makefile of the repo's: `make` builds something else (or drift-path says it moved).
      const at = targets.get(mention.target);
      if (at) {
        context.bind(mention, at, mention.target);
        continue;
      }
      if (!context.claimed(mention)) continue;
      const hint = expectedHint(mention.target, targets.keys(), `expected a target of \`${makefile}\``);
      await reportMissing(context, mention, `Unexpected make target \`${mention.target}\` that \`${makefile}\` does not define, ${hint.text}`, { actual: mention.target, expected: hint.expected });
    }
  },
};
