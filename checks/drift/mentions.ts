import type { LineIndex } from '../markdown.ts';
import type { Region } from './regions.ts';
import { SCRIPT_FILE } from './repo-index.ts';
import type { Mention } from './types.ts';

/**
 * What the document claims about the platform repo, found by shape alone (no configuration). Each pattern is
 * deliberately narrow; what it cannot tell apart is exempted explicitly with `drift-ignore` and a reason.
 */

/** Path-ish words: split on whitespace, quotes, brackets and shell punctuation; `~ / . - _` stay in. */
const WORD = /[^\s'"`()[\]{},;=|&<>:\\]+/g;
/** Extensions a bare file name must have to count as a claim (`notes.txt`, `curate-me.ai` are not repo files). */
const BARE_FILE = /^[\w.-]*[\w-]\.(?:py|sh|bash|ya?ml|ts|tsx|js|mjs|cjs|json|toml|ini|cfg|conf|sql|rb|go|rs|java|kt|tf|lock)$|^(?:Dockerfile|Makefile|Procfile)(?:\.[\w-]+)?$/;
const HOSTNAME = /^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}$/i;
/** `GraphConfig.from_env()`, `ProvisioningService.ensure_inbound_subscription`: a PascalCase class, then a member. */
const METHOD = /(?<![\w.$])([A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*)\.([A-Za-z_][A-Za-z0-9_]*)(\(\))?/g;
/** `_get_access_token()`, `send_email()`: snake_case (or _private) names called with parentheses. */
const FUNCTION = /(?<![\w.$])(_{0,2}[a-z][a-z0-9]*(?:_[a-z0-9]+)+|_[a-z][a-z0-9]*)\(\)?/g;
/**
 * Environment variables: UPPER_CASE words of two or more `_`-joined parts (`MICROSOFT_GRAPH_CLIENT_SECRET`), or a
 * prefix with a wildcard (`MICROSOFT_GRAPH_*`). Single words (`PATH`, `SEV2`, `AADSTS7000215`) are too ambiguous.
 * Not a call (`FOO_BAR(`), not an attribute (`Config.MAX_SIZE`) unless read from an env object (`process.env.X`).
 */
const ENV = /(?<![A-Za-z0-9_-])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)(_\*)?(?![A-Za-z0-9_(])/g;
const FLAG = /(?<![\w-])--([a-z0-9][a-z0-9-]*)/gi;
/** kebab-case names; the compose rule decides which of them claim a service or container name. */
const KEBAB = /(?<![\w./@~-])([a-z][a-z0-9]*(?:-[a-z0-9]+)+)(?![\w/@-]|\.[a-z0-9])/g;
const ERROR_QUOTED = /\b[A-Z]\w*(?:Error|Exception)\b\s*(?:\(\s*|:\s*)(["'“])(.+?)["'”]/g;
const ERROR_BARE = /\b[A-Z]\w*(?:Error|Exception)\b:\s+(?!["'“])([^`\n]+?)(\s*(?:\.\.\.|…)|(?=`)|$)/gm;
const ERROR_AFTER_VERB = /\b(?:raises?|throws?|fails? with|errors? with|error text|error message)\s*:?\s*["“]([^"”\n]+)["”]/gi;
/** A quoted name followed by "step": `its "Restoring VPS-local config files" step` names a step a script announces. */
const STEP_NAME = /(["“])([^"”\n]{4,80})["”]\s+step\b/g;
const FILE_EXTENSIONS = new Set(['py', 'sh', 'js', 'ts', 'md', 'yml', 'yaml', 'json', 'txt', 'toml', 'env', 'io', 'com', 'ai', 'org', 'net']);
/** Names the runbook defines in its own code (a helper in a heredoc) are not claims about the platform. */
const LOCAL_DEFINITION = /\bdef\s+([A-Za-z_]\w*)|\bfunction\s+([A-Za-z_$][\w$]*)|\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=|^\s*([A-Za-z_]\w*)\s*\(\)\s*\{/gm;

/** A code span or heading that is one call: `cd()`, `within(fn)`, `$.sync()` is not (a member of `$`). */
const WHOLE_CALL = /^([A-Za-z_][\w]*[A-Za-z0-9])\([^()]*\)$/;
/** Words that say the name on the line is an environment variable. */
const ENV_WORDS = /\benvironment variables?\b|\benv(?:ironment)?[ -]vars?\b/i;

/** A table column of settings: its header names what the cells are (`| Variable | Default |`, `| Value | ... |`). */
const SETTINGS_COLUMN = /^(?:env(?:ironment)?(?: variables?)?|(?:env(?:ironment)? )?variables?|names?|keys?|settings?|options?|parameters?|values?)$/i;

/**
 * The header of the table column that holds `offset`, when its line is a row of a Markdown table (`| a | b |` under a
 * header and a `| --- |` delimiter row). The parser leaves tables out (no GFM), so this reads the lines themselves.
 */
function tableHeader(lines: LineIndex, offset: number): string | undefined {
  const { line, column } = lines.point(offset);
  const row = lines.text(line);
  if (!/^\s*\|/.test(row)) return undefined;
  const cell = row.slice(0, column - 1).split('|').length - 1;
  let first = line;
  while (first > 1 && /^\s*\|/.test(lines.text(first - 1))) first--;
  if (first === line || !/^\s*\|?\s*:?-{3,}/.test(lines.text(first + 1))) return undefined;
  return lines.text(first).split('|')[cell]?.replace(/[`*_]/g, '').trim();
}

/** Whether `offset` is inside a link's text (`[... X ...](url)`, `[... X ...][ref]`): a name linked to its own docs. */
function inLinkText(lines: LineIndex, offset: number): boolean {
  const { line } = lines.point(offset);
  const start = lines.lineStart(line);
  const before = lines.source.slice(start, offset);
  const open = before.lastIndexOf('[');
  if (open === -1 || before.lastIndexOf(']') > open) return false;
  return /^[^\[\]\n]*\][[(]/.test(lines.source.slice(offset, start + lines.text(line).length));
}

/** Where the `related-services:` value sits in front matter text (offsets in that text). */
function relatedServicesRange(text: string): { from: number; to: number } | undefined {
  const key = /^related-services\s*:/m.exec(text);
  if (!key) return undefined;
  const next = /^\S/m.exec(text.slice(key.index + key[0].length));
  return { from: key.index + key[0].length, to: next ? key.index + key[0].length + next.index : text.length };
}

export type PathClaim = { kind: 'relative' | 'absolute' | 'bare'; text: string };

/** Whether a path-ish word claims a file in the repo, and how to look it up. */
export function pathClaim(word: string): PathClaim | undefined {
  const text = word.replace(/[.,!?]+$/, '');
  if (!text || /[*$@%#?+]/.test(text) || text.startsWith('-') || text.startsWith('//')) return undefined;
  if (!text.includes('/')) return BARE_FILE.test(text) ? { kind: 'bare', text } : undefined;
  if (text.startsWith('/') || text.startsWith('~')) return text.endsWith('/') ? undefined : { kind: 'absolute', text };
  const relative = text.replace(/^(?:\.\/)+/, '');
  if (relative.startsWith('../') || relative === '') return undefined;
  const segments = relative.split('/');
  if (HOSTNAME.test(segments[0]!)) return undefined;
  const last = segments[segments.length - 1]!;
  if (relative.endsWith('/') || /\.[A-Za-z][A-Za-z0-9]{0,7}$/.test(last) || BARE_FILE.test(last)) return { kind: 'relative', text };
  return undefined;
}

/** Unit boundaries for flags: a flag belongs to the script of its own command, not the next one on the line. */
function commandUnits(text: string): number[] {
  const cuts: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if ((c === '\n' && text[i - 1] !== '\\') || c === ';' || c === '|' || c === '&') cuts.push(i);
  }
  return cuts;
}

function unitOf(cuts: number[], offset: number): number {
  let low = 0;
  let high = cuts.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (cuts[mid]! < offset) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Absolute offsets in the source. */
interface Located {
  offset: number;
  end: number;
}

export function extractMentions(regions: readonly Region[], lines: LineIndex): Mention[] {
  const mentions: Mention[] = [];
  const localNames = new Set<string>();
  for (const region of regions)
    if (region.kind === 'code')
      // The raw block, not its literal-only view: `const onVps = (...) =>` in a setup block is the document's own.
      for (const match of lines.source.slice(region.offset, region.offset + region.text.length).matchAll(LOCAL_DEFINITION)) localNames.add((match[1] ?? match[2] ?? match[3] ?? match[4])!);

  // Scripts and flags are paired after every region is read: in prose the script and its flag are often in
  // different inline-code spans of the same line.
  const scripts: (Located & { name: string; unit: string; line: number })[] = [];
  const flags: (Located & { flag: string; unit: string; line: number; region: Region })[] = [];

  regions.forEach((region, regionIndex) => {
    const base = region.offset;
    const span = (start: number, end: number) => lines.span(base + start, base + end);
    if (region.kind === 'link') {
      // A link is a claim that its target exists, whatever the target's shape.
      let target = region.text;
      try {
        target = decodeURI(target);
      } catch {
        // A malformed escape: look the target up as written.
      }
      mentions.push({ kind: 'path', claim: 'relative', text: target, span: span(0, region.text.length), region: 'link', context: 'link' });
      return;
    }
    const inlineBody = region.kind === 'inline' ? region.text.replace(/^`+\s*|\s*`+$/g, '') : undefined;
    const whole = region.heading || inlineBody !== undefined;
    const cuts = region.kind === 'code' ? commandUnits(region.text) : [];
    // Inline code that starts with a command (`git reset --hard x`) owns its flags; one that starts with a flag
    // (`--backend`) belongs to the script its line names.
    const ownCommand = region.kind === 'inline' && !/^`+\s*-/.test(region.text);
    const unit = (offset: number) =>
      region.kind === 'code'
        ? `${regionIndex}:${unitOf(cuts, offset)}`
        : ownCommand
          ? `inline:${regionIndex}`
          : `line:${lines.point(base + offset).line}`;
    const common = { region: region.kind };

    for (const match of region.text.matchAll(WORD)) {
      // Next to a placeholder (`origin/<branch>`), a glob or emphasis (`scripts/*`) or a call (`r.json()`), the
      // word is only part of what the author wrote: not a claim on its own.
      const before = lines.source[base + match.index - 1];
      const after = lines.source[base + match.index + match[0].length];
      const partial = before === '>' || before === '}' || before === '$' || after === '<' || after === '*' || after === '(' || after === '$';
      const claim = partial ? undefined : pathClaim(match[0]);
      const basename = match[0].replace(/[.,!?]+$/, '').split('/').pop() ?? '';
      if (SCRIPT_FILE.test(basename) && !/[*$<]/.test(match[0]))
        for (const key of new Set([unit(match.index), region.kind === 'code' ? '' : `line:${lines.point(base + match.index).line}`]))
          if (key) scripts.push({ name: basename, offset: base + match.index, end: base + match.index + match[0].length, unit: key, line: lines.point(base + match.index).line });
      if (claim) mentions.push({ kind: 'path', claim: claim.kind, text: claim.text, span: span(match.index, match.index + claim.text.length), ...common });
    }
    for (const match of region.text.matchAll(METHOD)) {
      const [text, className, member, parens] = match as unknown as [string, string, string, string | undefined];
      const next = region.text.slice(match.index + text.length, match.index + text.length + 2);
      const upper = className.replace(/[^A-Z]/g, '').length;
      const called = parens !== undefined || next.startsWith('(');
      if (/^\.\w|^\//.test(next)) continue; // `Foo.bar.com`, `Dir.name/file`: part of an address or path
      if (!(called || member.includes('_') || (upper >= 2 && member.length >= 3 && /^[a-z_]/.test(member) && !FILE_EXTENSIONS.has(member.toLowerCase())))) continue;
      if (localNames.has(className)) continue;
      mentions.push({ kind: 'method', className, member, text, span: span(match.index, match.index + text.length), ...common, ...(called ? { context: 'call' as const } : {}) });
    }
    const wholeCall = whole ? WHOLE_CALL.exec(inlineBody ?? region.text.trim()) : null;
    for (const match of region.text.matchAll(FUNCTION)) {
      const name = match[1]!;
      if (localNames.has(name) || wholeCall?.[1] === name) continue;
      const text = match[0].endsWith(')') ? match[0] : name + '()';
      mentions.push({ kind: 'function', name, text: match[0].endsWith(')') ? text : name, span: span(match.index, match.index + name.length + (match[0].endsWith(')') ? 2 : 0)), ...common });
    }
    // `cd()`, `within(callback)`, `## retry()`: a code span or heading that is one call names a function.
    if (wholeCall && !localNames.has(wholeCall[1]!)) {
      const at = region.text.indexOf(wholeCall[1]!);
      mentions.push({ kind: 'function', name: wholeCall[1]!, text: `${wholeCall[1]}()`, span: span(at, at + wholeCall[1]!.length + 2), ...common, context: region.heading ? 'heading' : 'call' });
    }
    for (const match of region.text.matchAll(ENV)) {
      const name = match[1]!;
      const prefix = match[2] !== undefined;
      if (!prefix && !name.includes('_')) continue;
      if (region.text[match.index - 1] === '.' && !/env\.$/.test(region.text.slice(Math.max(0, match.index - 4), match.index))) continue;
      const text = match[0];
      // "the `X` environment variable", "env var `X`": the words right beside the name say what it is (a heading
      // that is the name alone does not: `### USER_SQL` is about an app).
      const near = region.kind === 'code' ? '' : lines.source.slice(Math.max(0, base + match.index - 24), base + match.index + text.length + 24);
      const context =
        ENV_WORDS.test(near) && !/\[[^\]]*\]\(#/.test(near) && !inLinkText(lines, base + match.index)
          ? ('prose-env' as const)
          : region.heading && region.variables && (inlineBody ?? region.text).trim() === text
            ? ('heading' as const)
            : region.kind === 'inline' && inlineBody?.trim() === text && SETTINGS_COLUMN.test(tableHeader(lines, base + match.index) ?? '')
              ? ('table' as const)
              : undefined;
      mentions.push({ kind: 'env', name, prefix, text, span: span(match.index, match.index + text.length), ...common, ...(context ? { context } : {}) });
    }
    for (const match of region.text.matchAll(FLAG)) {
      flags.push({ flag: match[0], offset: base + match.index, end: base + match.index + match[0].length, unit: unit(match.index), line: lines.point(base + match.index).line, region });
    }
    const services = region.frontMatter ? relatedServicesRange(region.text) : undefined;
    for (const match of region.text.matchAll(KEBAB)) {
      if (region.text[match.index - 1] === '-') continue;
      const at = span(match.index, match.index + match[1]!.length);
      // Only an entry that is the name alone (`- curateme-backend-b2b`, `[a, b]`), not words of a description.
      const alone = /(?:^|[-[,:])\s*$/.test(region.text.slice(0, match.index).split('\n').pop()!) && /^\s*(?:[,\]]|$)/m.test(region.text.slice(match.index + match[1]!.length));
      if (services && alone && match.index >= services.from && match.index < services.to)
        mentions.push({ kind: 'compose', name: match[1]!, role: 'container', text: match[1]!, span: at, ...common, context: 'front-matter' });
      else mentions.push({ kind: 'kebab', text: match[1]!, span: at, ...common });
    }
    if (region.kind !== 'code') {
      const claims: { at: number; text: string }[] = [];
      for (const match of region.text.matchAll(ERROR_QUOTED)) claims.push({ at: match.index + match[0].length - match[2]!.length - 1, text: match[2]! });
      for (const match of region.text.matchAll(ERROR_AFTER_VERB)) claims.push({ at: match.index + match[0].length - match[1]!.length - 1, text: match[1]! });
      for (const match of region.text.matchAll(ERROR_BARE)) {
        // In prose an unquoted message has no visible end; only an ellipsis (or the end of inline code) marks one.
        if (region.kind === 'prose' && !/\.\.\.|…/.test(match[2] ?? '')) continue;
        claims.push({ at: match.index + match[0].indexOf(match[1]!), text: match[1]! });
      }
      for (const claim of claims) {
        const errorText = claim.text.replace(/\s*(?:\.\.\.|…)\s*$/, '').trim();
        if (errorText.length < 10 || !/\s/.test(errorText)) continue;
        mentions.push({ kind: 'error-text', text: errorText, span: span(claim.at, claim.at + errorText.length), ...common, context: 'quoted' });
      }
      for (const match of region.text.matchAll(STEP_NAME)) {
        const stepName = match[2]!.trim();
        const at = match.index + 1 + match[2]!.indexOf(stepName);
        mentions.push({ kind: 'step-name', text: stepName, span: span(at, at + stepName.length), ...common, context: 'quoted' });
      }
    }
  });

  for (const flag of flags) {
    const sameUnit = scripts.filter((script) => script.unit === flag.unit);
    const before = sameUnit.filter((script) => script.offset < flag.offset && script.line <= flag.line).pop();
    // In prose the script may come after its flag ("the `--backend` path of deploy-to-vps.sh"); in code it may not.
    const after = flag.region.kind === 'code' ? undefined : sameUnit.find((script) => script.line === flag.line);
    const script = before ?? after;
    if (!script) continue;
    mentions.push({ kind: 'flag', flag: flag.flag, script: script.name, text: flag.flag, span: lines.span(flag.offset, flag.end), region: flag.region.kind });
  }
  return mentions;
}
