import type { Span } from '../../../runner/model.ts';
import { codeRegions, PYTHON_LANGS, SCRIPT_LANGS, SHELL_LANGS } from '../../markdown.ts';
import type { Report } from '../../rule.ts';
import { closingParen, scanScript, zxCommands } from '../../source/script-scan.ts';
import { commandName, parseShell, printsToTerminal, type ShellCommand, type ShellWord } from '../../source/shell.ts';
import { isSecretFileName, isSecretName } from '../secret-names.ts';
import type { LintRule } from '../types.ts';

/**
 * A secret must never reach a terminal, a transcript or another process's argv (visible in `ps`). This reads every
 * fenced block (prose `bash` blocks too: operators copy them) for the three ways that happens: printing it, passing
 * it as an argument, and `cat`-ing the file that holds it.
 */
const PRINTERS = new Set(['echo', 'printf']);
const READERS = new Set(['cat', 'less', 'more', 'head', 'tail', 'bat', 'nl', 'strings', 'xxd', 'od', 'hexdump']);
/** Builtins and keywords: their arguments never appear in another process's argv. */
const NO_ARGV = new Set(['export', 'local', 'declare', 'typeset', 'readonly', 'test', '[', '[[', 'if', 'read', 'unset', ':', 'set', 'then', 'while', 'until']);
const SHELL_VARIABLE = /\$\{([^}]+)\}|\$([A-Za-z_]\w*)/g;
const PY_PRINT = /\b(print|logger\s*\.\s*(?:info|debug|warning|error|exception)|logging\s*\.\s*(?:info|debug|warning|error))\s*\(/g;
const IDENTIFIER = /[A-Za-z_$][\w$]*/g;

type Place = (offset: number, length: number) => Span;

function variables(word: ShellWord): { name: string; offset: number; text: string }[] {
  const found: { name: string; offset: number; text: string }[] = [];
  // Single quotes do not expand here: `ssh vps 'echo $X'` expands remotely, and that command is checked on its own.
  if (word.quote === "'") return found;
  for (const match of word.raw.matchAll(SHELL_VARIABLE)) {
    // `${creds.clientSecret}` in a zx template: the last identifier names the value.
    const expression = match[1] ?? match[2] ?? '';
    const name = expression.match(/[A-Za-z_$][\w$]*/g)?.pop() ?? '';
    found.push({ name, offset: word.start + match.index, text: match[0] });
  }
  return found;
}

/** `byName`: judge `$VAR` by its name (shell, where no data flow is known); zx templates leave that to secret-flow. */
function checkShell(commands: ShellCommand[], place: Place, report: Report, byName = true): void {
  for (const command of commands) {
    const { name, index } = commandName(command);
    const args = command.words.slice(index + 1);
    if (PRINTERS.has(name)) {
      if (!printsToTerminal(command) || !byName) continue;
      for (const arg of args)
        for (const variable of variables(arg))
          if (isSecretName(variable.name))
            report(`Unexpected secret \`${variable.text}\` printed by \`${name}\`, expected it written to a file or piped, never printed`, place(variable.offset, variable.text.length));
      continue;
    }
    if (READERS.has(name)) {
      if (!printsToTerminal(command)) continue;
      for (const arg of args) {
        if (arg.value.startsWith('-')) continue;
        const named = variables(arg).some((variable) => /secret|token|passw|credential|private/i.test(variable.name));
        if (named || isSecretFileName(arg.value))
          report(`Unexpected \`${name}\` of secret file \`${arg.value}\`, expected its size or checksum (\`wc -c <\`), never its contents`, place(arg.start, arg.raw.length));
      }
      continue;
    }
    if (name === 'grep' && printsToTerminal(command)) {
      const quiet = args.some((arg) => /^-[a-zA-Z]*[cqlLs]|^--(?:count|quiet|files-with-matches|silent)/.test(arg.value));
      const pattern = args.find((arg) => !arg.value.startsWith('-'));
      const readsSecretFile = args.some((arg) => arg !== pattern && isSecretFileName(arg.value));
      const secretKey = pattern?.value.match(/[A-Z][A-Z0-9_]*/g)?.find((word) => word.includes('_') && isSecretName(word));
      if (!quiet && pattern && readsSecretFile && secretKey)
        report(`Unexpected \`grep\` printing the \`${secretKey}\` line, expected \`grep -c\` or \`grep -q\``, place(pattern.start, pattern.raw.length));
      continue;
    }
    if (NO_ARGV.has(name) || !byName) continue;
    for (const arg of args)
      for (const variable of variables(arg))
        if (isSecretName(variable.name))
          report(`Unexpected secret \`${variable.text}\` on the command line of \`${name}\`, expected it passed through a file, stdin or the environment`, place(variable.offset, variable.text.length));
  }
}

/** Identifiers in a call's arguments (read from the code view, so string contents are already blank). */
function printedSecrets(code: string, pattern: RegExp, place: Place, report: Report): void {
  for (const call of code.matchAll(pattern)) {
    const open = call.index + call[0].length - 1;
    const close = closingParen(code, open);
    const args = code.slice(open + 1, close);
    const printer = call[1]!.replace(/\s+/g, '');
    for (const identifier of args.matchAll(IDENTIFIER)) {
      const after = args.slice(identifier.index + identifier[0].length);
      const before = args.slice(0, identifier.index);
      if (!isSecretName(identifier[0])) continue;
      // `credential.displayName`, `token?.expiresOn` read a property (checked on its own name); `token ? 'ok' : ...`,
      // `!secret`, `secret === x` test it; an object key (`{ secret: ... }`) names it. None prints the value.
      if (/^\s*(?:\?\.|\.|\?(?![?.])|:|&&|\|\||[!=]==?|[<>]=?)/.test(after) || /(?:!|\btypeof\s+)\s*$/.test(before)) continue;
      report(`Unexpected secret \`${identifier[0]}\` printed by \`${printer}\`, expected it redacted (print its length, never the value)`, place(open + 1 + identifier.index, identifier[0].length));
    }
  }
}

/** Python has no code view of its own here: blank string contents (same length) but keep f-string `{...}` parts. */
function pythonCode(text: string): string {
  return text.replace(/(["'])((?:\\.|(?!\1)[^\n])*)\1/g, (whole: string) => {
    let depth = 0;
    let out = whole[0]!;
    for (let k = 1; k < whole.length - 1; k++) {
      const c = whole[k]!;
      if (c === '{') depth++;
      out += depth > 0 ? c : ' ';
      if (c === '}' && depth > 0) depth--;
    }
    return out + whole[whole.length - 1];
  });
}

export const noSecretOutput: LintRule = {
  id: 'no-secret-output',
  description: 'No secret is echoed, printed, passed on a command line, or read to the terminal with `cat`',
  check({ parsed, lines, report }) {
    for (const region of codeRegions(parsed.tree, lines)) {
      const place: Place = (offset, length) => lines.span(region.offset + offset, region.offset + offset + length);
      const absolute: Place = (offset, length) => lines.span(offset, offset + length);
      if (SCRIPT_LANGS.has(region.lang)) {
        // What a script prints or passes on a command line is secret-flow's (by where a value came from, not its
        // name); here only the shell inside zx templates is read, for `cat` of a secret file and the like.
        const views = scanScript(region.text);
        for (const template of zxCommands(views)) {
          const start = region.offset + template.start + 1;
          const commands = parseShell(region.text.slice(template.start + 1, template.end - 1), start);
          // zx quotes `${value}` for the shell, but the value still lands in the process's argv: same checks.
          checkShell(commands, absolute, report, false);
        }
      } else if (SHELL_LANGS.has(region.lang)) {
        const commands = parseShell(region.text, region.offset);
        checkShell(commands, absolute, report);
        for (const heredoc of commands.flatMap((command) => command.heredocs)) {
          const at: Place = (offset, length) => lines.span(heredoc.start + offset, heredoc.start + offset + length);
          printedSecrets(pythonCode(heredoc.body), PY_PRINT, at, report);
        }
      } else if (PYTHON_LANGS.has(region.lang)) {
        printedSecrets(pythonCode(region.text), PY_PRINT, place, report);
      }
    }
  },
};

