import type { Diagnostic } from '../../common/diagnostics.ts';
import { LineIndex } from '../markdown.ts';
import { runRules, type ParsedRunbook } from '../rule.ts';
import { collectExemptions, covers } from './exemptions.ts';
import { extractMentions } from './mentions.ts';
import { regionsOf } from './regions.ts';
import { driftRules } from './registry.ts';
import { indexRepo } from './repo-index.ts';
import type { DriftContext, DriftOptions, DriftRule, Mention } from './types.ts';

/** What the document claims, each at its position (exposed for `runbook plan`-style tooling and tests). */
export function runbookMentions(parsed: ParsedRunbook): Mention[] {
  const lines = new LineIndex(parsed.runbook.source);
  return extractMentions(regionsOf(parsed.tree, lines), lines);
}

/**
 * Drift between the runbook and what it describes: the platform repo (paths, symbols, env vars, flags, compose
 * names, error texts), its own freshness, and with `replay` the sandbox. Findings come back in document order.
 */
export async function checkDrift(parsed: ParsedRunbook, options: DriftOptions & { rules?: readonly DriftRule[] }): Promise<Diagnostic[]> {
  const allMentions = runbookMentions(parsed);
  const exemptions = collectExemptions(parsed.tree, parsed.runbook);
  const mentions = allMentions.filter((mention) => !exemptions.some((exemption) => covers(exemption, mention)));
  const context: DriftContext = {
    parsed,
    runbook: parsed.runbook,
    mentions,
    allMentions,
    exemptions,
    repo: await indexRepo(options.repo),
    now: options.now ?? new Date(),
    maxAgeDays: options.maxAgeDays,
    replay: options.replay,
  };
  return runRules(options.rules ?? driftRules, context, parsed.runbook.file);
}

export { driftRules };
export type { DriftContext, DriftOptions, DriftRule, Mention, ReplayRunner } from './types.ts';
