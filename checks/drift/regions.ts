import type { Code, Definition, Heading, InlineCode, Link, Root, Text, Yaml } from 'mdast';
import { toString } from 'mdast-util-to-string';
import { visit } from 'unist-util-visit';
import { codeRegion, SCRIPT_LANGS, type LineIndex } from '../markdown.ts';
import { closingParen, scanScript, zxCommands } from '../source/script-scan.ts';
import type { RegionKind } from './types.ts';

/**
 * A stretch of the document that can make claims, as text whose every character sits at its true offset in the
 * source (so a match's offset is its position). TS/JS blocks contribute only their strings, template text, regexes
 * and comments: `fs.writeFile()` in a step is the runbook's own code, `'scripts/deploy-to-vps.sh'` is a claim.
 */
export interface Region {
  kind: RegionKind;
  text: string;
  offset: number;
  lang?: string;
  /** The region is the whole text of a heading (`## cd()`, `##### LOG_LEVEL`): a heading that names a thing documents it. */
  heading?: boolean;
  /**
   * The heading sits in a section about variables: the document's title or a heading above it says so
   * ("Environment Variables", "Variables to Control Provisioning"). Such a section's headings name variables.
   */
  variables?: boolean;
  /** The front matter, where `related-services` lists services by name. */
  frontMatter?: boolean;
  /** An indented code block (no fence). */
  indented?: boolean;
  /** In a TS/JS block, where its shell commands are (zx templates, offsets in `text`): the rest is not shell. */
  commands?: { start: number; end: number }[];
}

/** Calls that name a secret for redaction (`secrets.read(file, 'NEW_GRAPH_SECRET')`): their UPPER_CASE arguments are labels. */
const SECRET_CALL = /\bsecrets?\s*\.\s*[A-Za-z_$][\w$]*\s*\(|\bsecret\s*\(/g;
const LABEL = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g;
/** `[secret:NAME]` is how a redacted value is shown: NAME is a label, not an env var. */
const REDACTED = /\[secret:([A-Za-z0-9_.-]+)\]/g;

function blankSecretLabels(views: { text: string; code: string }): string {
  let text = views.text;
  for (const call of views.code.matchAll(SECRET_CALL)) {
    const close = closingParen(views.code, call.index + call[0].length - 1);
    const start = call.index + call[0].length;
    text = text.slice(0, start) + text.slice(start, close).replace(LABEL, (label) => ' '.repeat(label.length)) + text.slice(close);
  }
  return text;
}

function blankRedacted(text: string): string {
  return text.replace(REDACTED, (whole) => ' '.repeat(whole.length));
}

const URL = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"`<>)\]]*/gi;

/**
 * Front matter claims too (`related-services`, target settings), except the `drift-ignore` list: an exemption
 * naming a mention is not itself a mention.
 */
function frontMatterText(text: string): string {
  let skipping = false;
  return text
    .split('\n')
    .map((line) => {
      if (/^\S/.test(line)) skipping = /^drift-ignore\s*:/.test(line);
      return skipping ? ' '.repeat(line.length) : line;
    })
    .join('\n');
}

/** URLs are addresses, not repo paths: blank them (same length) before anything looks for paths in the text. */
function blankUrls(text: string): string {
  return text.replace(URL, (url) => ' '.repeat(url.length));
}

/** What a title or heading says to make the headings under it variables' names. */
const VARIABLES_SECTION = /\bvariables?\b|\benv(?:ironment)?\b/i;

export function regionsOf(tree: Root, lines: LineIndex): Region[] {
  const source = lines.source;
  const regions: Region[] = [];
  const title = tree.children.find((node): node is Yaml => node.type === 'yaml')?.value.match(/^title\s*:\s*(.+)$/m)?.[1] ?? '';
  // The headings above the one being read (their depth and whether they, or the title, are about variables).
  const sections: { depth: number; variables: boolean }[] = [];
  let inVariables = false;
  const slice = (node: { position?: { start: { offset?: number }; end: { offset?: number } } }) => {
    const start = node.position?.start.offset;
    const end = node.position?.end.offset;
    return start === undefined || end === undefined ? undefined : { start, text: source.slice(start, end) };
  };
  visit(tree, (node, _index, parent) => {
    if (node.type === 'heading') {
      const { depth } = node as Heading;
      while (sections.length > 0 && sections[sections.length - 1]!.depth >= depth) sections.pop();
      inVariables = VARIABLES_SECTION.test(title) || sections.some((section) => section.variables);
      sections.push({ depth, variables: VARIABLES_SECTION.test(toString(node)) });
    }
    const heading = parent?.type === 'heading' && parent.children.length === 1 ? { heading: true, ...(inVariables ? { variables: true } : {}) } : {};
    if (node.type === 'yaml') {
      const part = slice(node as Yaml);
      if (part) regions.push({ kind: 'prose', text: blankUrls(frontMatterText(part.text)), offset: part.start, frontMatter: true });
    } else if (node.type === 'text') {
      const part = slice(node as Text);
      if (part) regions.push({ kind: 'prose', text: blankRedacted(blankUrls(part.text)), offset: part.start, ...heading });
    } else if (node.type === 'inlineCode') {
      const part = slice(node as InlineCode);
      if (part) regions.push({ kind: 'inline', text: blankRedacted(blankUrls(part.text)), offset: part.start, ...heading });
    } else if (node.type === 'link' || node.type === 'definition') {
      // `[text](url)` and `[label]: url`: the target, without its `#anchor`, resolved from the document's folder.
      const link = node as Link | Definition;
      const part = slice(link);
      const url = link.url.replace(/#.*$/, '');
      const at = part ? part.text.lastIndexOf(url) : -1;
      if (part && url && at !== -1 && !/^[a-z][a-z0-9+.-]*:|^#|^\/\//i.test(url)) regions.push({ kind: 'link', text: url, offset: part.start + at });
    } else if (node.type === 'code') {
      const region = codeRegion(node as Code, lines);
      if (!region) return;
      const views = SCRIPT_LANGS.has(region.lang) ? scanScript(region.text) : undefined;
      const text = views ? blankSecretLabels(views) : region.text;
      const commands = views ? zxCommands(views).map((template) => ({ start: template.start + 1, end: template.end - 1 })) : undefined;
      const indented = (node as Code).data?.runbook?.fenced === false ? { indented: true } : {};
      regions.push({ kind: 'code', text: blankRedacted(blankUrls(text)), offset: region.offset, lang: region.lang, ...indented, ...(commands ? { commands } : {}) });
    }
  });
  return regions;
}
