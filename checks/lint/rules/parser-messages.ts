import { severityOf } from '../../../common/diagnostics.ts';
import type { LintRule } from '../types.ts';

/**
 * The parser already finds unknown roles and attributes, duplicate ids, verify/expect/rollback blocks with no step,
 * bad attribute values and malformed front matter. Lint relays them under their own ids rather than checking twice.
 */
export const parserMessages: LintRule = {
  id: 'parse',
  description: 'Reports what the parser found: unknown roles or attributes, duplicate ids, orphan blocks, bad values',
  check({ parsed, report }) {
    for (const message of parsed.messages) {
      report(message.reason, message.place ?? undefined, {
        ruleId: message.ruleId ?? 'parse',
        severity: severityOf(message),
        actual: message.actual,
        expected: message.expected,
      });
    }
  },
};
