import type { Html, Root } from 'mdast';
import { visit } from 'unist-util-visit';
import type { Runbook, Span } from '../../runner/model.ts';
import type { Exemption, Mention } from './types.ts';

export type { Exemption } from './types.ts';

const COMMENT = /^<!--\s*drift-ignore:\s*([\s\S]*?)\s*-->$/;
const REASON = /\s+reason=(?:"([^"]*)"|'([^']*)'|(\S+))\s*$/;

/** How a mention is named in an exemption: backticks, `()` and a leading `./` do not matter. */
export function normaliseMention(text: string): string {
  return text.trim().replace(/^`|`$/g, '').replace(/\(\)$/, '').replace(/^\.\//, '');
}

function parseComment(value: string): { mention: string; reason?: string } | undefined {
  const body = COMMENT.exec(value.trim())?.[1];
  if (body === undefined) return undefined;
  const reason = REASON.exec(body);
  const mention = reason ? body.slice(0, reason.index) : body;
  const text = reason ? (reason[1] ?? reason[2] ?? reason[3] ?? '').trim() : undefined;
  return { mention: normaliseMention(mention), ...(text ? { reason: text } : {}) };
}

export function collectExemptions(tree: Root, runbook: Runbook): Exemption[] {
  const exemptions: Exemption[] = [];
  visit(tree, 'html', (node: Html, index, parent) => {
    const parsed = parseComment(node.value);
    if (!parsed || !node.position) return;
    // Stacked comments all cover the first element after them.
    let next = index === undefined || !parent ? undefined : parent.children[index + 1];
    for (let k = (index ?? 0) + 1; parent && next?.type === 'html'; k++) next = parent.children[k + 1];
    const span: Span = { start: node.position.start, end: node.position.end };
    const lines = next?.position ? { from: next.position.start.line, to: next.position.end.line } : { from: span.end.line + 1, to: span.end.line + 1 };
    exemptions.push({ ...parsed, span, lines });
  });
  const listed = runbook.frontMatter.data['drift-ignore'];
  const keySpan = runbook.frontMatter.keySpans['drift-ignore'];
  if (Array.isArray(listed) && keySpan) {
    for (const entry of listed) {
      const mention = typeof entry === 'string' ? entry : entry && typeof entry === 'object' ? (entry as Record<string, unknown>)['mention'] : undefined;
      const reason = entry && typeof entry === 'object' ? (entry as Record<string, unknown>)['reason'] : undefined;
      if (typeof mention !== 'string') continue;
      exemptions.push({ mention: normaliseMention(mention), ...(typeof reason === 'string' && reason.trim() ? { reason: reason.trim() } : {}), span: keySpan });
    }
  }
  return exemptions;
}

/** Whether an exemption names this mention where it stands (its text, within the exemption's lines). */
function names(exemption: Exemption, mention: Mention): boolean {
  if (normaliseMention(mention.text) !== exemption.mention) return false;
  const line = mention.span.start.line;
  return !exemption.lines || (line >= exemption.lines.from && line <= exemption.lines.to);
}

/** An exemption covers a mention it names, and only with a reason. */
export function covers(exemption: Exemption, mention: Mention): boolean {
  return exemption.reason !== undefined && names(exemption, mention);
}

/** Mentions an exemption could match, reasons aside: used to report exemptions that name nothing. */
export function matchesAny(exemption: Exemption, mentions: readonly Mention[]): boolean {
  return mentions.some((mention) => names(exemption, mention));
}
