import { closingParen } from './script-scan.ts';

/**
 * Just enough of POSIX shell to find commands and their arguments with their offsets: quoting, `\`-newline
 * continuations, `;` `&&` `||` `|` `&`, redirections, heredocs, and the commands that run a command string
 * (`ssh HOST 'cmd'`, `sh -c 'cmd'`), which are parsed again so the remote command is seen too.
 */

export interface ShellWord {
  /** The word with quotes removed (`$VAR` left as written). */
  value: string;
  raw: string;
  /** Offset of the word's first character in the text given to `parseShell`. */
  start: number;
  /** The word was one quoted string: where its content starts (for parsing it again as a command). */
  innerStart?: number;
  quote?: '"' | "'";
}

export interface Heredoc {
  delimiter: string;
  /** The body, as written, and its offset: a script for another interpreter (python, node). */
  body: string;
  start: number;
}

export interface ShellCommand {
  words: ShellWord[];
  /** `>` / `>>` targets of stdout (`2>` and `&>` too, with their fd in `op`). */
  redirects: { op: string; target: ShellWord }[];
  heredocs: Heredoc[];
  /** Its stdout goes into a pipe, so nothing it prints reaches the terminal. */
  pipedOut: boolean;
  /** Nested inside another command's string (ssh's remote command, `sh -c`). */
  nested: boolean;
}

const OPERATOR = /^(?:&&|\|\||;;|[;|&]|\d*>>|\d*>&\d*|&>|\d*>|<<-?|<<<|<)/;
const SSH_OPTIONS_WITH_VALUE = new Set(['-b', '-c', '-D', '-E', '-e', '-F', '-I', '-i', '-J', '-L', '-l', '-m', '-O', '-o', '-p', '-Q', '-R', '-S', '-W', '-w']);
const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh']);

function readWord(text: string, from: number): { word: ShellWord; end: number } {
  let i = from;
  let value = '';
  let innerStart: number | undefined;
  let quote: '"' | "'" | undefined;
  let parts = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c) || ';&|<>'.includes(c)) break;
    parts++;
    if (c === "'" || c === '"') {
      const close = findClose(text, i + 1, c);
      if (parts === 1) {
        innerStart = i + 1;
        quote = c;
      }
      value += text.slice(i + 1, close);
      i = Math.min(close + 1, text.length);
      continue;
    }
    if (c === '\\' && i + 1 < text.length) {
      value += text[i + 1] === '\n' ? '' : text[i + 1];
      i += 2;
      continue;
    }
    if (c === '$' && text[i + 1] === '(') {
      const close = findParen(text, i + 1);
      value += text.slice(i, close + 1);
      i = close + 1;
      continue;
    }
    value += c;
    i++;
  }
  const raw = text.slice(from, i);
  // Only a word that is exactly one quoted string can be re-parsed as a command with true offsets.
  const single = innerStart !== undefined && parts === 1 ? { innerStart, quote } : {};
  return { word: { value, raw, start: from, ...single }, end: i };
}

function findClose(text: string, from: number, quote: string): number {
  let i = from;
  while (i < text.length && text[i] !== quote) i += quote === '"' && text[i] === '\\' ? 2 : 1;
  return i;
}

/** The closing `)`, or the last character of an unclosed group. */
function findParen(text: string, open: number): number {
  return Math.min(closingParen(text, open), text.length - 1);
}

/** Parses shell text into commands (nested ones included, flattened in order). Never throws. */
export function parseShell(text: string, base = 0, nested = false): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let current: ShellCommand = { words: [], redirects: [], heredocs: [], pipedOut: false, nested };
  const pendingHeredocs: { delimiter: string; command: ShellCommand }[] = [];
  const finish = (pipedOut = false) => {
    current.pipedOut = pipedOut;
    if (current.words.length > 0 || current.heredocs.length > 0 || current.redirects.length > 0) commands.push(current);
    current = { words: [], redirects: [], heredocs: [], pipedOut: false, nested };
  };
  let i = 0;
  let expectTarget: string | undefined;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\' && text[i + 1] === '\n') {
      i += 2;
      continue;
    }
    if (c === '\n') {
      finish();
      i++;
      // Heredoc bodies start on the line after the command that opened them.
      for (const pending of pendingHeredocs.splice(0)) {
        const start = i;
        let end = i;
        let next = i;
        while (next < text.length) {
          const eol = text.indexOf('\n', next);
          const lineEnd = eol === -1 ? text.length : eol;
          if (text.slice(next, lineEnd).trim() === pending.delimiter) {
            end = next;
            next = eol === -1 ? text.length : eol + 1;
            break;
          }
          next = eol === -1 ? text.length : eol + 1;
          end = next;
        }
        pending.command.heredocs.push({ delimiter: pending.delimiter, body: text.slice(start, end), start: base + start });
        i = next;
      }
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const eol = text.indexOf('\n', i);
      i = eol === -1 ? text.length : eol;
      continue;
    }
    const op = OPERATOR.exec(text.slice(i, i + 4))?.[0];
    if (op) {
      i += op.length;
      if (op === '|' || op === '||' || op === '&&' || op === ';' || op === '&' || op === ';;') {
        finish(op === '|');
      } else if (!/&\d*$/.test(op)) {
        expectTarget = op; // The next word is a file (or a heredoc delimiter), not an argument.
      }
      continue;
    }
    const { word, end } = readWord(text, i);
    i = end === i ? i + 1 : end;
    const shifted: ShellWord = { ...word, start: base + word.start, ...(word.innerStart !== undefined ? { innerStart: base + word.innerStart } : {}) };
    if (expectTarget !== undefined) {
      if (expectTarget.startsWith('<<') && expectTarget !== '<<<') pendingHeredocs.push({ delimiter: word.value, command: current });
      else current.redirects.push({ op: expectTarget, target: shifted });
      expectTarget = undefined;
      continue;
    }
    current.words.push(shifted);
  }
  finish();
  // Commands that carry a command string are parsed again, so `ssh host 'echo $SECRET'` is seen as `echo`.
  const all: ShellCommand[] = [];
  for (const command of commands) {
    all.push(command);
    const inner = innerCommand(command);
    if (inner?.innerStart !== undefined) all.push(...parseShell(inner.value, inner.innerStart, true));
    else if (inner) all.push(...parseShell(inner.value, inner.start, true));
  }
  return all;
}

function innerCommand(command: ShellCommand): ShellWord | undefined {
  const words = command.words;
  const name = words[0]?.value;
  if (name === 'ssh') {
    let k = 1;
    while (k < words.length && words[k]!.value.startsWith('-')) k += SSH_OPTIONS_WITH_VALUE.has(words[k]!.value) ? 2 : 1;
    const rest = words.slice(k + 1);
    if (rest.length === 1) return rest[0];
    return undefined;
  }
  if (name && SHELLS.has(name)) {
    const flag = words.findIndex((word) => word.value === '-c');
    if (flag > 0) return words[flag + 1];
  }
  return undefined;
}

/** The command's name with `sudo`/`env X=Y` wrappers skipped: `sudo docker ps` is `docker`. */
export function commandName(command: ShellCommand): { name: string; index: number } {
  let k = 0;
  while (k < command.words.length) {
    const value = command.words[k]!.value;
    if (value === 'sudo' || value === 'env' || value === 'exec' || value === 'time' || /^[A-Za-z_]\w*=/.test(value)) {
      k++;
      continue;
    }
    return { name: value.split('/').pop() ?? value, index: k };
  }
  return { name: '', index: k };
}

/** Its stdout reaches the terminal: not piped on and not redirected to a file. */
export function printsToTerminal(command: ShellCommand): boolean {
  if (command.pipedOut) return false;
  return !command.redirects.some(({ op }) => op === '>' || op === '>>' || op === '1>' || op === '1>>' || op === '&>');
}
