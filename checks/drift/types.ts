import type { Diagnostic } from '../../common/diagnostics.ts';
import type { Runbook, Span } from '../../runner/model.ts';
import type { AsyncRule, ParsedRunbook, ReportOptions } from '../rule.ts';
import type { Binding } from './bindings.ts';
import type { IgnoreEntry } from './documents.ts';
import type { Location, RepoIndex } from './repo-index.ts';

/**
 * Replays a runbook on the sandbox and returns the run's failure messages (`run-verify`, `run-expect`, ...), each at
 * its place. Injected (the CLI wires the runner's real one) so the drift checks never depend on the runner's
 * internals, and tests pass a fake.
 */
export type ReplayRunner = (file: string) => Promise<{ messages: Diagnostic[] }>;

export interface DriftOptions {
  /** The platform repository to compare the document with (a path, or an index already built for many documents). */
  repo: string | RepoIndex;
  /** The document's path relative to the repo root when it lives in the repo: links resolve from its folder. */
  documentPath?: string;
  /** What each claim bound to when the bindings file was last written (`check --update`, `validate`). */
  bindings?: readonly Binding[];
  /** The repository configuration's `mention:` and `path:` ignores. */
  ignore?: readonly IgnoreEntry[];
  /** Overrides `review-every` (the `--max-age` flag). */
  maxAgeDays?: number;
  /** "Today" for the freshness check; default: the current date. */
  now?: Date;
  /** When given, the runbook is replayed on the sandbox and failing verify/expect blocks are drift. */
  replay?: ReplayRunner;
}

/** Where the text of a mention came from: prose, inline code, a link target, or the content of a fenced block. */
export type RegionKind = 'prose' | 'inline' | 'code' | 'link' | 'heading';

/**
 * What makes a mention a claim about the repository. A mention without one is a word of the right shape only: it
 * is checked when a binding says it was true before, never on its shape alone.
 * - `command`: a command line runs it (`./install.sh`, `make build`, `deploy.sh --backend`);
 * - `compose`: a `docker compose` verb names it as a service; `docker`: a `docker exec|logs|...` names a container;
 * - `env-read`: `$X`, `${X}`, `process.env.X`, `os.environ[...]`, `getenv`; `env-assign`: `X=1 cmd`, `-e X=1`;
 *   `env-file`: `^X=` (a key of an env file); `prose-env`: "the `X` environment variable";
 * - `link`: a Markdown link target (resolved from the document's folder); `repo-path`: a path that starts with one
 *   of the repo's own top-level names;
 * - `call`: `name()` or `Class.method()` written as a call; `heading`: a heading that is exactly the name (an
 *   UPPER_CASE one only in a section about variables: the title or a heading above it says "variables"/"environment");
 * - `table`: a name alone in a cell of a settings table, whose column header says what it is (`Variable`, `Name`,
 *   `Key`, `Setting`, `Option`, `Parameter`, `Value`, `Env`);
 * - `front-matter`: `related-services`; `quoted`: an error text or step name quoted from the code;
 * - `document`: the same name is a claim elsewhere in the document.
 */
export type ClaimContext =
  | 'command'
  | 'compose'
  | 'docker'
  | 'env-read'
  | 'env-assign'
  | 'env-file'
  | 'prose-env'
  | 'link'
  | 'repo-path'
  | 'call'
  | 'heading'
  | 'table'
  | 'front-matter'
  | 'quoted'
  | 'document';

interface MentionBase {
  /** The text as the document wrote it (what an exemption names). */
  text: string;
  span: Span;
  region: RegionKind;
  context?: ClaimContext;
}

/** Everything the document claims about the platform repository, each at its position. */
export type Mention =
  | (MentionBase & { kind: 'path'; claim: 'relative' | 'absolute' | 'bare'; cwd?: string })
  | (MentionBase & { kind: 'method'; className: string; member: string })
  | (MentionBase & { kind: 'function'; name: string })
  | (MentionBase & {
      kind: 'env';
      name: string;
      prefix: boolean;
      /** A container's setting (`docker run -e X=1 IMAGE`, a compose `environment:`): the image it is given to. */
      image?: string;
      /** A compose `environment:` key of a service without `image:` (a snippet overriding a service): the service. */
      service?: string;
    })
  | (MentionBase & { kind: 'flag'; flag: string; script: string })
  | (MentionBase & { kind: 'kebab' })
  | (MentionBase & { kind: 'compose'; name: string; role: 'service' | 'container' })
  | (MentionBase & { kind: 'make'; target: string; makefile?: string })
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
  documentPath?: string;
  now: Date;
  maxAgeDays?: number;
  replay?: ReplayRunner;
  /** The previous bindings, by `bindingKey`. */
  previous: ReadonlyMap<string, Binding>;
  /** Records what a mention resolves to now (what `--update` writes). */
  bind(mention: Mention, at: Location, symbol?: string): void;
  /**
   * Whether a mention that does not resolve is reported: it is a claim by its context, or it was bound before.
   * Returns the previous binding (for the message) or true.
   */
  claimed(mention: Mention): Binding | boolean;
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

/** A mention's claim, named the same way in the bindings file whatever its position in the document. */
export function bindingKey(mention: Mention): string {
  return `${mention.kind}:${mention.kind === 'flag' ? `${mention.script} ${mention.flag}` : mention.text}`;
}

/**
 * Reports a claim that does not resolve. One that was bound before says where it was ("was true and no longer is",
 * with the rename git knows of), apart from a new claim that binds to nothing (the message alone).
 */
export async function reportMissing(
  context: DriftContext & { report: import('../rule.ts').Report },
  mention: Mention,
  message: string,
  options: ReportOptions & { renamedTo?: string } = {},
): Promise<void> {
  const previous = context.previous.get(bindingKey(mention));
  const { renamedTo, ...rest } = options;
  if (!previous) {
    context.report(message, mention.span, rest);
    return;
  }
  const where = `${previous.file}${previous.line ? `:${previous.line}` : ''}`;
  const rename = renamedTo ? `; git records \`${previous.file}\` renamed to \`${renamedTo}\`` : '';
  context.report(`${message} (it was \`${where}\` when the bindings were written${rename})`, mention.span, { ...rest, ...(renamedTo ? { expected: [renamedTo] } : {}) });
}
