import type { AttributeValue } from '../model.ts';

/** One word of a fence's info string, with its column range on the fence line (1-based, end exclusive). */
export interface InfoWord {
  key: string;
  value: AttributeValue;
  column: number;
  endColumn: number;
}

export interface InfoString {
  lang: string;
  /** The first bare word after the language: the role candidate (validated by the caller). */
  role?: InfoWord;
  attributes: InfoWord[];
  /** Words after the role that are bare and not a known flag stay here for the caller to judge. */
  stray: InfoWord[];
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*/;
const WORD = /([A-Za-z][\w-]*)=(?:"([^"]*)"|'([^']*)'|(\S*))|(\S+)/g;

/**
 * Splits an opening fence line into language, role and attributes. remark gives `lang` and `meta` but not where each
 * word sits; diagnostics need that, so the line is read again here (it is one line; no markdown parsing involved).
 */
export function parseInfoString(fenceLine: string): InfoString {
  const fence = FENCE.exec(fenceLine);
  const start = fence ? fence[0].length : 0;
  const words: InfoWord[] = [];
  WORD.lastIndex = start;
  for (let match = WORD.exec(fenceLine); match; match = WORD.exec(fenceLine)) {
    const column = match.index + 1;
    const endColumn = column + match[0].length;
    if (match[5] !== undefined) words.push({ key: match[5], value: true, column, endColumn });
    else words.push({ key: match[1]!, value: match[2] ?? match[3] ?? match[4] ?? '', column, endColumn });
  }
  const [lang, ...rest] = words;
  const info: InfoString = { lang: lang && lang.value === true ? lang.key : '', attributes: [], stray: [] };
  const first = rest[0];
  if (first && first.value === true) {
    info.role = first;
    rest.shift();
  }
  for (const word of rest) info.attributes.push(word);
  return info;
}
