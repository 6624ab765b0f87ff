import type { Diagnostic } from '../../common/diagnostics.ts';
import { LineIndex } from '../markdown.ts';
import { runRules, type ParsedRunbook } from '../rule.ts';
import type { Binding } from './bindings.ts';
import { commandClaims, normalisePath } from './claims.ts';
import picomatch from 'picomatch';
import type { IgnoreEntry } from './documents.ts';
import { docsSiteTree } from './docs-site.ts';
import { collectExemptions, covers, normaliseMention } from './exemptions.ts';
import { extractMentions } from './mentions.ts';
import { regionsOf } from './regions.ts';
import { driftRules } from './registry.ts';
import { indexRepo, type Location, type RepoIndex } from './repo-index.ts';
import { bindingKey, type DriftContext, type DriftOptions, type DriftRule, type Mention } from './types.ts';

/** The name a claim is about, the same for every mention of it in a document (a claim here makes it one there). */
function claimName(mention: Mention): string {
  switch (mention.kind) {
    case 'compose':
      return `compose:${mention.name}`;
    case 'kebab':
      return `compose:${mention.text}`;
    case 'flag':
      return `flag:${mention.script} ${mention.flag}`;
    case 'env':
      return `env:${mention.name}`;
    case 'function':
      return `function:${mention.name}`;
    default:
      return `${mention.kind}:${mention.text}`;
  }
}

/**
 * Every mention of the document: shape matches (mentions.ts) and command-line claims (claims.ts) merged, each with
 * what makes it a claim. A shape match at the place of a command claim takes its context; a name claimed anywhere
 * in the document is a claim everywhere in it; a shell variable the document sets itself is nobody's claim.
 */
function allMentions(parsed: ParsedRunbook): Mention[] {
  const lines = new LineIndex(parsed.runbook.source);
  // A docs site's admonitions and tabs are Markdown, not indented code (docs-site.ts).
  const regions = regionsOf(docsSiteTree(parsed), lines);
  const shaped = extractMentions(regions, lines);
  const { mentions: contextual, localVariables, localPaths } = commandClaims(regions, lines);
  const made = (text: string) => {
    const normal = normalisePath(text);
    for (const local of localPaths) if (normal === local || normal.startsWith(`${local}/`)) return true;
    return false;
  };
  const at = (mention: Mention) => `${mention.kind === 'kebab' ? 'compose' : mention.kind}@${mention.span.start.offset}`;
  const byPlace = new Map<string, Mention>();
  for (const mention of shaped) if (!byPlace.has(at(mention))) byPlace.set(at(mention), mention);
  for (const claim of contextual) {
    const shape = byPlace.get(at(claim));
    // The command's reading wins: it knows which program a flag belongs to and that a word is a service.
    if (!shape || shape.context === undefined || shape.kind !== claim.kind) byPlace.set(at(claim), claim);
  }
  const merged = [...byPlace.values()].filter(
    (mention) => !(mention.kind === 'env' && mention.context === undefined && localVariables.has(mention.name)) && !(mention.kind === 'path' && mention.context !== 'link' && made(mention.text)),
  );
  const claimed = new Map<string, Mention>();
  for (const mention of merged) if (mention.context !== undefined && !claimed.has(claimName(mention))) claimed.set(claimName(mention), mention);
  const result = merged.map((mention): Mention => {
    if (mention.context !== undefined) return mention;
    const claim = claimed.get(claimName(mention));
    if (!claim) return mention;
    if (mention.kind === 'kebab' && claim.kind === 'compose') return { ...claim, text: mention.text, span: mention.span, region: mention.region, context: 'document' };
    // A container's setting keeps whose container it is (`WATCHTOWER_CLEANUP` in prose is watchtower's, as in its compose).
    const owner = claim.kind === 'env' ? { ...(claim.image !== undefined ? { image: claim.image } : {}), ...(claim.service !== undefined ? { service: claim.service } : {}) } : {};
    return { ...mention, ...owner, context: 'document' } as Mention;
  });
  return result.sort((a, b) => (a.span.start.offset ?? 0) - (b.span.start.offset ?? 0));
}

/**
 * What the document claims, each at its position (exposed for tooling and tests). Flags go to a program only when it
 * is a script (`x.sh --flag`): whether another program (`zx --quiet`) is the repo's is for the flag rule to say.
 */
export function runbookMentions(parsed: ParsedRunbook): Mention[] {
  return allMentions(parsed).filter((mention) => mention.kind !== 'flag' || mention.context !== 'command' || /\.\w+$/.test(mention.script));
}

export interface DriftOutcome {
  diagnostics: Diagnostic[];
  /** What each claim resolved to now: the content of the bindings file `--update` writes. */
  bindings: Binding[];
}

/** The repository configuration's `mention:` and `path:` entries (documents.ts), as a test on a mention. */
function ignoredByConfig(entries: readonly IgnoreEntry[]): (mention: Mention) => boolean {
  const names = new Set(entries.flatMap((entry) => ('mention' in entry ? [normaliseMention(entry.mention)] : [])));
  const paths = entries.flatMap((entry) => ('path' in entry ? [picomatch(entry.path, { dot: true })] : []));
  return (mention) => names.has(normaliseMention(mention.text)) || (mention.kind === 'path' && paths.some((match) => match(mention.text.replace(/^\.\//, ''))));
}

/**
 * Drift between the document and what it describes: the platform repo (paths, symbols, env vars, flags, compose
 * names, make targets, error texts), its own freshness (runbooks only), and with `replay` the sandbox.
 */
export async function checkDocument(parsed: ParsedRunbook, options: DriftOptions & { rules?: readonly DriftRule[] }): Promise<DriftOutcome> {
  const mentionsFound = allMentions(parsed);
  const exemptions = collectExemptions(parsed.tree, parsed.runbook);
  const ignored = ignoredByConfig(options.ignore ?? []);
  const mentions = mentionsFound.filter((mention) => !exemptions.some((exemption) => covers(exemption, mention)) && !ignored(mention));
  const previous = new Map((options.bindings ?? []).map((binding) => [binding.claim, binding]));
  const bound = new Map<string, Binding>();
  const repo: RepoIndex = typeof options.repo === 'string' ? await indexRepo(options.repo) : options.repo;
  const context: DriftContext = {
    parsed,
    runbook: parsed.runbook,
    mentions,
    allMentions: mentionsFound,
    exemptions,
    repo,
    documentPath: options.documentPath,
    now: options.now ?? new Date(),
    maxAgeDays: options.maxAgeDays,
    replay: options.replay,
    previous,
    bind(mention: Mention, at: Location, symbol?: string) {
      const claim = bindingKey(mention);
      if (!bound.has(claim)) bound.set(claim, { claim, file: at.file, ...(at.line ? { line: at.line } : {}), ...(symbol ? { symbol } : {}) });
    },
    claimed(mention: Mention) {
      return previous.get(bindingKey(mention)) ?? mention.context !== undefined;
    },
  };
  const diagnostics = await runRules(options.rules ?? driftRules, context, parsed.runbook.file);
  return { diagnostics, bindings: [...bound.values()] };
}

/** `checkDocument`'s findings only: the one-document API the tests and the bench use. */
export async function checkDrift(parsed: ParsedRunbook, options: DriftOptions & { rules?: readonly DriftRule[] }): Promise<Diagnostic[]> {
  return (await checkDocument(parsed, options)).diagnostics;
}

export { driftRules, indexRepo };
export type { DriftContext, DriftOptions, DriftRule, Mention, ReplayRunner } from './types.ts';
