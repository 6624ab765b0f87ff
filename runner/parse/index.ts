import { createHash } from 'node:crypto';
import GithubSlugger from 'github-slugger';
import type { Code, Heading as MdastHeading, Root, Yaml } from 'mdast';
import { toString } from 'mdast-util-to-string';
import remarkFrontmatter from 'remark-frontmatter';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
import { VFile } from 'vfile';
import { diagnostic, type Diagnostic } from '../../common/diagnostics.ts';
import { ROLES, type AttributeValue, type Block, type Heading, type Role, type Runbook, type Span, type Step, type StepOptions } from '../model.ts';
import { closest } from '../../common/closest.ts';
import { parseDuration } from '../../common/duration.ts';
import { emptyFrontMatter, parseFrontMatter } from './front-matter.ts';
import type { InfoWord } from './info-string.ts';
import { checkDocumentLimits, MAX_TIMER_MS } from './limits.ts';
import { eachBlock, remarkRunbook, type FenceInfo } from './remark-runbook.ts';
import { parseInPieces } from './sections.ts';

/** Walks the runbook's fenced blocks with their fence data: the checks read blocks through this, not the plugin. */
export { eachBlock };

export { blockSyntaxDiagnostics } from './syntax.ts';

import { CODE_LANGS, OUTPUT_LANGS, SHELL_LANGS } from './languages.ts';

export { CODE_LANGS, OUTPUT_LANGS, SHELL_LANGS };

/** The languages each role can be written in; a role in any other language leaves the fence prose. */
function languagesOf(role: Role): ReadonlySet<string> {
  if (role === 'expect') return OUTPUT_LANGS;
  if (role === 'setup') return CODE_LANGS;
  return new Set([...CODE_LANGS, ...SHELL_LANGS]);
}

/** Attributes each role accepts; anything else is a diagnostic, so a typo never silently changes behaviour. */
export const ROLE_ATTRIBUTES: Record<Role, readonly string[]> = {
  step: ['id', 'timeout', 'retries', 'retry-delay', 'when', 'confirm', 'manual', 'on-demand', 'irreversible', 'rollback', 'reason'],
  verify: ['timeout'],
  expect: [],
  rollback: ['timeout'],
  setup: [],
};

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_RETRY_DELAY_MS = 250;
const ID_PATTERN = /^[A-Za-z0-9][\w.-]*$/;

export interface ParseResult {
  runbook: Runbook;
  /** Everything wrong with the document; the runbook is only safe to run when none is an error. */
  messages: Diagnostic[];
  /** The mdast tree (fences carry `data.runbook`), for checks that read prose and inline code with positions. */
  tree: Root;
}

// GFM is left out on purpose: it changes nothing about fences, headings or inline code (all a runbook's structure
// and claims live in) and costs half again the parse time of a large document.
const processor = unified().use(remarkParse).use(remarkFrontmatter, ['yaml']).use(remarkRunbook);

function spanOf(node: { position?: { start: { line: number; column: number; offset?: number }; end: { line: number; column: number; offset?: number } } }): Span {
  const position = node.position!;
  return {
    start: { line: position.start.line, column: position.start.column, offset: position.start.offset },
    end: { line: position.end.line, column: position.end.column, offset: position.end.offset },
  };
}

/** Findings about a block point at its opening fence line (`text`), not at the whole block. */
export function fenceLineSpan(span: Span, text: string): Span {
  return { start: span.start, end: { line: span.start.line, column: text.length + 1 } };
}

function wordSpan(line: number, word: InfoWord): Span {
  return { start: { line, column: word.column }, end: { line, column: word.endColumn } };
}

/** The result for a document refused as a whole (a bound crossed): no model, only the reason. */
export function refusedDocument(source: string, file: string, messages: Diagnostic[]): ParseResult {
  return {
    runbook: { file, source, digest: createHash('sha256').update(source).digest('hex'), frontMatter: emptyFrontMatter(), headings: [], steps: [], blocks: [] },
    messages,
    tree: { type: 'root', children: [] },
  };
}

/** Parses a runbook. Never throws for a problem in the document: those come back as positioned messages. */
export function parseRunbook(source: string, file: string): ParseResult {
  // CRLF documents: line/column positions are what matter and they do not change; offsets are only used internally.
  const text = source.replace(/\r\n?/g, '\n');
  const refused = checkDocumentLimits(text, file);
  if (refused.length > 0) return refusedDocument(text, file, refused);
  const vfile = new VFile({ path: file, value: text });
  const tree = processor.runSync(parseInPieces(text, (piece) => processor.parse(piece)), vfile) as Root;
  const messages: Diagnostic[] = [];

  const yamlNode = tree.children.find((node): node is Yaml => node.type === 'yaml');
  const frontMatter = yamlNode
    ? parseFrontMatter(file, { value: yamlNode.value, span: spanOf(yamlNode) }, messages)
    : emptyFrontMatter();

  const headings: Heading[] = [];
  const blocks: Block[] = [];
  const steps: Step[] = [];
  const stepById = new Map<string, Step>();
  const slugger = new GithubSlugger();
  const lines = text.split('\n');
  let section: Heading | undefined;
  let lastStepInSection: Step | undefined;
  let proseStartLine = yamlNode ? spanOf(yamlNode).end.line + 1 : 1;

  eachBlock(tree, (node) => {
    if (node.type === 'heading') {
      const heading: Heading = { text: toString(node as MdastHeading), depth: (node as MdastHeading).depth, span: spanOf(node) };
      headings.push(heading);
      section = heading;
      lastStepInSection = undefined;
      proseStartLine = heading.span.end.line + 1;
      return;
    }
    if (node.type !== 'code') return;
    const code = node as Code;
    const fence = code.data?.runbook as FenceInfo | undefined;
    const span = spanOf(code);
    const previousProseStart = proseStartLine;
    proseStartLine = span.end.line + 1;
    if (!fence) return;
    const lang = fence.info.lang.toLowerCase();
    const knownLang = CODE_LANGS.has(lang) || OUTPUT_LANGS.has(lang) || SHELL_LANGS.has(lang);
    // Only a known language followed by a role runs; every other fence is prose, as documents written for other
    // tools (`ts twoslash`, Runme's `js {"id":...}`) expect. A near miss of a role is worth a warning, never a refusal.
    if (fence.unknownRole !== undefined) {
      const suggestion = knownLang && /^[a-z-]+$/i.test(fence.unknownRole) ? closest(fence.unknownRole.toLowerCase(), ROLES, 2) : undefined;
      if (suggestion && fence.info.role) {
        messages.push(
          diagnostic(`Unexpected role \`${fence.unknownRole}\`, expected \`${suggestion}\` (this fence is prose and never runs)`, {
            file,
            place: wordSpan(span.start.line, fence.info.role),
            ruleId: 'unknown-role',
            severity: 'warning',
            actual: fence.unknownRole,
            expected: [suggestion],
          }),
        );
      }
      return;
    }
    const role = fence.role;
    if (!role) return; // A fence with no role is prose: shown, never run.
    if (!languagesOf(role).has(lang)) {
      // `python step` or `text step`: the author meant a step the runner cannot run; say so, and leave it prose.
      if (knownLang || lang !== '') {
        messages.push(
          diagnostic(`Unexpected language \`${fence.info.lang || '(none)'}\` for a \`${role}\` block, expected one of: ${[...languagesOf(role)].join(', ')} (this fence is prose and never runs)`, {
            file,
            place: fenceLineSpan(span, lines[span.start.line - 1] ?? ''),
            ruleId: 'block-language',
            severity: 'warning',
          }),
        );
      }
      return;
    }

    if (fence.unclosed) {
      messages.push(
        diagnostic(`Unclosed \`${role}\` fence, expected a closing fence before the end of the document`, {
          file,
          place: fenceLineSpan(span, lines[span.start.line - 1] ?? ''),
          ruleId: 'unclosed-fence',
        }),
      );
      return;
    }

    const attributes: Record<string, AttributeValue> = {};
    const attributeSpans: Record<string, Span> = {};
    const allowed = ROLE_ATTRIBUTES[role];
    for (const word of fence.info.attributes) {
      const place = wordSpan(span.start.line, word);
      if (!allowed.includes(word.key)) {
        messages.push(
          diagnostic(
            `Unexpected attribute \`${word.key}\` on a \`${role}\` block, expected ${allowed.length ? `one of: ${allowed.join(', ')}` : 'none'}`,
            { file, place, ruleId: 'unknown-attribute' },
          ),
        );
        continue;
      }
      if (word.key in attributes) {
        messages.push(diagnostic(`Unexpected repeated attribute \`${word.key}\``, { file, place, ruleId: 'unknown-attribute' }));
        continue;
      }
      attributes[word.key] = word.value;
      attributeSpans[word.key] = place;
    }

    const block: Block = {
      id: `line-${span.start.line}/${role}`,
      role,
      lang,
      attributes,
      attributeSpans,
      code: code.value,
      span,
      codeLine: span.start.line + 1,
      index: blocks.length,
    };
    blocks.push(block);
    // Setup belongs to the whole document, not to a section's step.
    if (role === 'setup') return;

    if (role === 'step') {
      const options = stepOptions(file, block, messages, Object.keys(frontMatter.targets));
      const explicitId = typeof attributes['id'] === 'string' ? attributes['id'] : undefined;
      let id: string;
      if (explicitId !== undefined) {
        id = explicitId;
        if (!ID_PATTERN.test(id)) {
          messages.push(
            diagnostic(`Unexpected step id \`${id}\`, expected letters, digits, \`-\`, \`_\` or \`.\``, {
              file,
              place: attributeSpans['id'],
              ruleId: 'step-id',
            }),
          );
        }
      } else {
        id = slugger.slug(section ? section.text : `step-${steps.length + 1}`);
      }
      const existing = stepById.get(id);
      if (existing) {
        messages.push(
          diagnostic(`Unexpected duplicate step id \`${id}\`, expected a unique id (first used on line ${existing.block.span.start.line})`, {
            file,
            place: attributeSpans['id'] ?? block.span,
            ruleId: 'duplicate-id',
          }),
        );
      }
      const intro = lines.slice(previousProseStart - 1, span.start.line - 1).join('\n').trim();
      const step: Step = { id, title: section?.text ?? id, heading: section, intro, block, options, verifies: [], expects: [] };
      Object.assign(block, { id, stepId: id });
      if (explicitId !== undefined) slugger.slug(explicitId); // Reserve it so a later heading slug cannot collide.
      stepById.set(id, step);
      steps.push(step);
      lastStepInSection = step;
      return;
    }

    if (!lastStepInSection) {
      messages.push(
        diagnostic(`Unexpected \`${role}\` block with no step before it in its section, expected a \`ts step\` block above it`, {
          file,
          place: fenceLineSpan(span, lines[span.start.line - 1] ?? ''),
          ruleId: 'orphan-block',
        }),
      );
      return;
    }
    const owner = lastStepInSection;
    if (role === 'verify') {
      owner.verifies.push(block);
      Object.assign(block, { id: `${owner.id}/verify-${owner.verifies.length}`, stepId: owner.id });
    } else if (role === 'expect') {
      owner.expects.push(block);
      Object.assign(block, { id: `${owner.id}/expect-${owner.expects.length}`, stepId: owner.id });
    } else if (lastStepInSection.rollback) {
      messages.push(
        diagnostic(
          `Unexpected second rollback for step \`${lastStepInSection.id}\`, expected one (first on line ${lastStepInSection.rollback.span.start.line})`,
          { file, place: block.span, ruleId: 'duplicate-rollback' },
        ),
      );
    } else {
      owner.rollback = block;
      Object.assign(block, { id: `${owner.id}/rollback`, stepId: owner.id });
    }
  });

  return { runbook: { file, source: text, digest: createHash('sha256').update(source).digest('hex'), frontMatter, headings, steps, blocks }, messages, tree };
}

function stepOptions(file: string, block: Block, messages: Diagnostic[], targets: readonly string[]): StepOptions {
  const { attributes, attributeSpans } = block;
  const options: StepOptions = {
    timeoutMs: DEFAULT_TIMEOUT_MS,
    retries: 0,
    retryDelayMs: DEFAULT_RETRY_DELAY_MS,
    confirm: false,
    manual: false,
    onDemand: false,
    irreversible: false,
  };
  const bad = (key: string, expected: string) =>
    messages.push(
      diagnostic(`Unexpected ${key} \`${String(attributes[key])}\`, expected ${expected}`, {
        file,
        place: attributeSpans[key],
        ruleId: 'attribute-value',
      }),
    );
  for (const key of ['timeout', 'retry-delay'] as const) {
    const value = attributes[key];
    if (value === undefined) continue;
    const ms = typeof value === 'string' ? parseDuration(value) : undefined;
    if (ms === undefined || ms <= 0) bad(key, 'a duration such as `30s` or `2m`');
    // Node fires a longer timer at once: a `timeout=25d` step would time out the moment it starts.
    else if (ms > MAX_TIMER_MS) bad(key, `a duration of at most ${Math.floor(MAX_TIMER_MS / 86_400_000)}d (Node's timer range)`);
    else if (key === 'timeout') options.timeoutMs = ms;
    else options.retryDelayMs = ms;
  }
  if (attributes['retries'] !== undefined) {
    const value = attributes['retries'];
    if (typeof value !== 'string' || !/^\d+$/.test(value)) bad('retries', 'a whole number such as `2`');
    else options.retries = Number(value);
  }
  if (attributes['when'] !== undefined) {
    const value = attributes['when'];
    if (typeof value !== 'string' || value === '') bad('when', 'a target name such as `sandbox`');
    else {
      options.when = value.split(',').map((name) => name.trim()).filter(Boolean);
      // A misspelt target would skip the step everywhere, silently: refuse it here, at the attribute.
      for (const name of options.when.filter((name) => !targets.includes(name))) {
        const near = closest(name, targets);
        messages.push(
          diagnostic(`Unexpected target \`${name}\` in when=, expected ${near ? `\`${near}\`` : targets.length ? `one of: ${targets.join(', ')}` : 'a target declared in the front matter (this runbook declares none)'}`, {
            file,
            place: attributeSpans['when'],
            ruleId: 'unknown-target',
            actual: name,
            expected: near ? [near] : [...targets],
          }),
        );
      }
    }
  }
  for (const [flag, key] of [['confirm', 'confirm'], ['manual', 'manual'], ['on-demand', 'onDemand'], ['irreversible', 'irreversible']] as const) {
    const value = attributes[flag];
    if (value === undefined) continue;
    if (value === true || value === 'true') options[key] = true;
    else if (value !== 'false') bad(flag, 'a bare flag');
  }
  if (attributes['rollback'] !== undefined) {
    if (attributes['rollback'] !== 'none') bad('rollback', '`none` (with reason="...")');
    else if (typeof attributes['reason'] !== 'string' || attributes['reason'].trim() === '') {
      messages.push(
        diagnostic('Unexpected `rollback=none` without a reason, expected reason="why nothing can be undone"', {
          file,
          place: attributeSpans['rollback'],
          ruleId: 'attribute-value',
        }),
      );
    } else options.rollbackNone = attributes['reason'];
  }
  return options;
}
