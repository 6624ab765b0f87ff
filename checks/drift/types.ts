import type { Diagnostic } from '../../common/diagnostics.ts';
import type { Runbook, Span } from '../../runner/model.ts';
import type { AsyncRule, ParsedRunbook } from '../rule.ts';
import type { RepoIndex } from './repo-index.ts';

/**
 * Replays a runbook on the sandbox and returns the run's failure messages (`run-verify`, `run-expect`, ...), each at
 * its place. Injected (the CLI wires the runner's real one) so the drift checks never depend on the runner's
 * internals, and tests pass a fake.
 */
export type ReplayRunner = (file: string) => Promise<{ messages: Diagnostic[] }>;

export interface DriftOptions {
  /** The platform repository to compare the document with. */
  repo: string;
  /** Overrides `review-every` (the `--max-age` flag). */
  maxAgeDays?: number;
  /** "Today" for the freshness check; default: the current date. */
  now?: Date;
  /** When given, the runbook is replayed on the sandbox and failing verify/expect blocks are drift. */
  replay?: ReplayRunner;
}

/** Where the text of a mention came from: prose, inline code, or the content of a fenced block. */
export type RegionKind = 'prose' | 'inline' | 'code';

interface MentionBase {
  /** The text as the document wrote it (what an exemption names). */
  text: string;
  span: Span;
  region: RegionKind;
}

/** Everything the document claims about the platform repository, each at its position. */
export type Mention =
  | (MentionBase & { kind: 'path'; claim: 'relative' | 'absolute' | 'bare' })
  | (MentionBase & { kind: 'method'; className: string; member: string })
  | (MentionBase & { kind: 'function'; name: string })
  | (MentionBase & { kind: 'env'; name: string; prefix: boolean })
  | (MentionBase & { kind: 'flag'; flag: string; script: string })
  | (MentionBase & { kind: 'kebab' })
  | (MentionBase & { kind: 'error-text' })
  | (MentionBase & { kind: 'step-name' });

export type MentionKind = Mention['kind'];
export type MentionOf<K extends MentionKind> = Extract<Mention, { kind: K }>;

export interface DriftContext {
  parsed: ParsedRunbook;
  runbook: Runbook;
  /** Mentions that no valid exemption covers: what the claim rules check. */
  mentions: readonly Mention[];
  /** Every mention, exempted ones included (for the rule that checks the exemptions themselves). */
  allMentions: readonly Mention[];
  exemptions: readonly Exemption[];
  repo: RepoIndex;
  now: Date;
  maxAgeDays?: number;
  replay?: ReplayRunner;
}

/** A drift rule: `{ id, description, check(context) }`, may be async (replay), reports through `context.report`. */
export type DriftRule = AsyncRule<DriftContext>;

export function mentionsOf<K extends MentionKind>(context: { mentions: readonly Mention[] }, kind: K): MentionOf<K>[] {
  return context.mentions.filter((mention): mention is MentionOf<K> => mention.kind === kind);
}

/**
 * An author's explicit, reasoned "this mention is not a claim about the repo":
 * - `<!-- drift-ignore: MENTION reason="..." -->` right before a paragraph, list or block: covers that element;
 * - front matter `drift-ignore: [{ mention: MENTION, reason: "..." }]`: covers every mention of MENTION.
 * An exemption with no reason exempts nothing (and is reported), so silencing a check always leaves a trace.
 */
export interface Exemption {
  mention: string;
  reason?: string;
  /** Where the exemption is written, for findings about it. */
  span: Span;
  /** Lines it covers; undefined = the whole document (front matter). */
  lines?: { from: number; to: number };
}
