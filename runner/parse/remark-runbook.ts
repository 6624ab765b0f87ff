import type { Code, Nodes, Root } from 'mdast';
import type { VFile } from 'vfile';
import { ROLES, type Role } from '../model.ts';
import { parseInfoString, type InfoString } from './info-string.ts';

/** What the plugin attaches to each fenced code node (`node.data.runbook`). */
export interface FenceInfo {
  info: InfoString;
  role?: Role;
  /** The role word is present but not a known role. */
  unknownRole?: string;
  /** A fenced block (``` or ~~~); false for an indented one. */
  fenced: boolean;
  /** The opening fence is never closed (the block runs to the end of the document). */
  unclosed: boolean;
}

declare module 'mdast' {
  interface CodeData {
    runbook?: FenceInfo;
  }
}

const CLOSING_FENCE = /^\s*(`{3,}|~{3,})\s*$/;

/**
 * remark plugin: reads the role and `key=value` attributes from each fence's info string onto the node, so later
 * phases read the tree instead of parsing markdown twice.
 */
export function remarkRunbook() {
  return (tree: Root, file: VFile) => {
    const lines = String(file.value).split('\n');
    eachBlock(tree, (block) => {
      if (block.type !== 'code') return;
      const node = block as Code;
      const position = node.position;
      if (!position) return;
      const info = parseInfoString(lines[position.start.line - 1] ?? '');
      const fence = /^\s*(`{3,}|~{3,})/.exec(lines[position.start.line - 1] ?? '');
      const opening = fence?.[1] ?? '```';
      const last = lines[position.end.line - 1] ?? '';
      const closing = CLOSING_FENCE.exec(last)?.[1];
      const unclosed =
        position.end.line === position.start.line ||
        !closing ||
        closing[0] !== opening[0] ||
        closing.length < opening.length;
      const data: FenceInfo = { info, fenced: fence !== null, unclosed };
      const roleWord = info.role?.key;
      if (roleWord !== undefined) {
        if ((ROLES as readonly string[]).includes(roleWord)) data.role = roleWord as Role;
        else data.unknownRole = roleWord;
      }
      node.data = { ...node.data, runbook: data };
    });
  };
}

/** Containers whose children are blocks: a fence or a heading can only be found through these. */
const CONTAINERS = new Set(['root', 'list', 'listItem', 'blockquote']);

/**
 * Every block-level node in document order, without descending into paragraphs and other inline content: fences and
 * headings never live there, and skipping them is most of the tree of a long runbook.
 */
export function eachBlock(node: Nodes, visitor: (node: Nodes) => void): void {
  if (node.type !== 'root') visitor(node);
  if (CONTAINERS.has(node.type) && 'children' in node) for (const child of node.children as Nodes[]) eachBlock(child, visitor);
}
