import { expectedHint } from '../closest.ts';
import { bindingKey, mentionsOf, reportMissing, type DriftRule } from '../types.ts';

/** Functions a language gives every program: a document calls them without claiming the repo defines them. */
const BUILTINS = new Set([
  'require', 'import', 'fetch', 'setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'queueMicrotask', 'structuredClone',
  'parseInt', 'parseFloat', 'isNaN', 'encodeURIComponent', 'decodeURIComponent', 'print', 'len', 'range', 'open', 'input', 'super',
  'main', 'eval', 'exit', 'echo', 'printf', 'describe', 'it', 'test', 'expect',
]);

/**
 * A claim: `Class.method()` or `name()` written as a call (a code span or heading that is one call), snake_case or
 * camelCase; or one bound before. `Class.member` without a call, and `send_email` in running prose, are checked only
 * when a binding says they were there.
 */
export const symbol: DriftRule = {
  id: 'drift-symbol',
  description: 'Every `Class.method()` and `function()` the runbook claims is defined in the platform repo',
  async check(context) {
    const { repo } = context;
    for (const mention of mentionsOf(context, 'method')) {
      const info = repo.classes.get(mention.className);
      if (!info) {
        // A class the repo never defined is a library's (`Buffer.from`, `GlobalOpenTelemetry.getMeter`): only a
        // binding (it was the repo's) makes its absence drift.
        if (!context.previous.has(bindingKey(mention))) continue;
        const hint = expectedHint(mention.className, repo.classes.keys(), 'expected a class the platform repo defines');
        await reportMissing(context, mention, `Unexpected \`${mention.text}\`: the platform repo defines no class \`${mention.className}\`, ${hint.text}`, { actual: mention.className, expected: hint.expected });
        continue;
      }
      const member = info.members.get(mention.member) ?? (!info.exact ? repo.functions.get(mention.member) : undefined);
      if (member) {
        context.bind(mention, member, `${mention.className}.${mention.member}`);
        continue;
      }
      if (!context.claimed(mention)) continue;
      const hint = expectedHint(mention.member, info.members.keys(), `expected a method of \`${mention.className}\``);
      await reportMissing(context, mention, `Unexpected \`${mention.text}\`: class \`${mention.className}\` has no \`${mention.member}\`, ${hint.text}`, { actual: mention.member, expected: hint.expected });
    }
    for (const mention of mentionsOf(context, 'function')) {
      const at = repo.functions.get(mention.name);
      if (at) {
        context.bind(mention, at, mention.name);
        continue;
      }
      const claim = context.claimed(mention);
      if (!claim || (claim === true && BUILTINS.has(mention.name))) continue;
      const hint = expectedHint(mention.name, repo.functions.keys(), 'expected a function the platform repo defines');
      await reportMissing(context, mention, `Unexpected function \`${mention.name}()\` that the platform repo does not define, ${hint.text}`, { actual: mention.name, expected: hint.expected });
    }
  },
};
