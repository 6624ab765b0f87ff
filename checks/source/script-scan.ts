/**
 * A small lexer for the TypeScript/JavaScript of runbook blocks. Checks need two views of the same text with every
 * offset unchanged: the *text* the code carries (strings, template text, comments, regexes: where a block names
 * files, env vars and commands) and the *code* itself (identifiers, calls; where a secret gets printed). A full
 * parser would be heavier than the question; this only has to know where literals start and end.
 */

export interface TemplateLiteral {
  /** Offset of the opening backtick. */
  start: number;
  /** Offset just past the closing backtick. */
  end: number;
  /** The tag before the backtick (`$`, `$.sync`, `$({ cwd })`, `ssh`), '' when untagged. */
  tag: string;
}

export interface ScriptViews {
  /** Same length as the input: literal and comment contents kept, everything else blank (newlines kept). */
  text: string;
  /** Same length as the input: code kept (template `${}` expressions included), literals and comments blank. */
  code: string;
  templates: TemplateLiteral[];
}

const REGEX_AFTER_WORDS = new Set(['return', 'typeof', 'case', 'void', 'delete', 'in', 'of', 'new', 'throw', 'yield', 'await']);
const REGEX_AFTER_CHARS = '(,=:[!&|?{};+-*%<>~^';
const TAG = /((?:[\w$.]+)(?:\([^()`]*\))?)\s*$/;

type Frame = { kind: 'template'; start: number; tag: string } | { kind: 'expr'; depth: number };

export function scanScript(source: string): ScriptViews {
  const n = source.length;
  const text = new Array<string>(n);
  const code = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const blank = source[i] === '\n' ? '\n' : ' ';
    text[i] = blank;
    code[i] = blank;
  }
  const keepText = (from: number, to: number) => {
    for (let k = from; k < to && k < n; k++) text[k] = source[k]!;
  };
  const templates: TemplateLiteral[] = [];
  const stack: Frame[] = [];
  // The last significant token decides whether `/` starts a regex or divides.
  let last = '';
  let i = 0;
  while (i < n) {
    const top = stack[stack.length - 1];
    const c = source[i]!;
    if (top?.kind === 'template') {
      if (c === '\\') {
        keepText(i, i + 2);
        i += 2;
      } else if (c === '`') {
        stack.pop();
        templates.push({ start: top.start, end: i + 1, tag: top.tag });
        last = 'a';
        i++;
      } else if (c === '$' && source[i + 1] === '{') {
        stack.push({ kind: 'expr', depth: 0 });
        last = '(';
        i += 2;
      } else {
        keepText(i, i + 1);
        i++;
      }
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const next = source[i + 1];
    if (c === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? n : end;
      keepText(i + 2, stop);
      i = stop;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end;
      keepText(i + 2, stop);
      i = stop + 2;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && source[j] !== c && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
      keepText(i + 1, j);
      i = j + 1;
      last = 'a';
      continue;
    }
    if (c === '`') {
      const tag = TAG.exec(source.slice(Math.max(0, i - 80), i))?.[1] ?? '';
      stack.push({ kind: 'template', start: i, tag });
      i++;
      continue;
    }
    if (c === '/' && (last === '' || REGEX_AFTER_CHARS.includes(last))) {
      let j = i + 1;
      let inClass = false;
      while (j < n && source[j] !== '\n') {
        const d = source[j];
        if (d === '\\') j++;
        else if (d === '[') inClass = true;
        else if (d === ']') inClass = false;
        else if (d === '/' && !inClass) break;
        j++;
      }
      keepText(i + 1, j);
      i = j + 1;
      while (i < n && /[a-z]/.test(source[i]!)) i++;
      last = 'a';
      continue;
    }
    if (top?.kind === 'expr') {
      if (c === '{') top.depth++;
      else if (c === '}') {
        if (top.depth === 0) {
          stack.pop();
          i++;
          continue;
        }
        top.depth--;
      }
    }
    if (/[\w$]/.test(c)) {
      let j = i;
      while (j < n && /[\w$]/.test(source[j]!)) {
        code[j] = source[j]!;
        j++;
      }
      last = REGEX_AFTER_WORDS.has(source.slice(i, j)) ? '(' : 'a';
      i = j;
      continue;
    }
    code[i] = c;
    last = c;
    i++;
  }
  return { text: text.join(''), code: code.join(''), templates };
}

/** The template literals whose tag is zx's `$` (plain, `.sync`, or with options): their text is a shell command. */
export function zxCommands(views: ScriptViews): TemplateLiteral[] {
  return views.templates.filter((template) => /^\$(?:\.sync)?(?:\(.*\))?$/s.test(template.tag));
}

/** Offset of the `)` that closes the `(` at `open`, or `text.length` when it is never closed. */
export function closingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  return text.length;
}
