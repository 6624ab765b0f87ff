import type { Step } from '../../runner/model.ts';
import { scanScript } from '../source/script-scan.ts';
import { commandName, parseShell, type ShellCommand } from '../source/shell.ts';

/**
 * Whether a step changes something outside the runbook's own memory, and why we think so. It is a heuristic on
 * purpose: a false "mutating" costs the author one `verify` or one `rollback=none reason=...`, a false "read-only"
 * lets an unverified change through, so it errs towards mutating.
 */
const WRITING_COMMANDS = new Set([
  'rm', 'mv', 'cp', 'chmod', 'chown', 'tee', 'shred', 'mkdir', 'touch', 'ln', 'install', 'rsync', 'scp', 'dd',
  'truncate', 'kill', 'pkill', 'systemctl', 'service', 'crontab', 'pbcopy', 'kubectl', 'az', 'terraform',
]);
const DOCKER_READ_ONLY = new Set(['ps', 'logs', 'inspect', 'images', 'version', 'info', 'top', 'stats', 'config', 'ls', 'events', 'port', 'diff']);
const GIT_WRITES = new Set(['push', 'commit', 'reset', 'checkout', 'merge', 'pull', 'rebase', 'tag', 'clean', 'stash', 'switch', 'restore', 'apply', 'am']);
const DOCKER_OPTIONS_WITH_VALUE = new Set(['-f', '--file', '--env-file', '-p', '--project-name', '--profile', '-H', '--host', '--context', '--project-directory']);
/** Writes from code (TS in the block, or Python/Node fed to an interpreter by a heredoc). */
const CODE_WRITES =
  /\b(?:writeFile|writeFileSync|appendFile|appendFileSync|rmSync|rmdir|rmdirSync|unlink|unlinkSync|rename|renameSync|mkdir|mkdirSync|copyFile|copyFileSync|cp|cpSync|chmod|chmodSync|chown|symlink|truncate|createWriteStream|outputFile|write_text|write_bytes|remove|rmtree|scp|docker|addPassword|removePassword)\s*\(|\.(?:post|patch|put|delete|del)\s*\(|\bopen\([^)]*['"][wa]\+?b?['"]/;
const HTTP_WRITE_METHOD = /method\s*:\s*['"](?:POST|PUT|PATCH|DELETE)['"]/i;

function commandMutation(command: ShellCommand): string | undefined {
  const { name, index } = commandName(command);
  const args = command.words.slice(index + 1).map((word) => word.value);
  if (command.redirects.some(({ op, target }) => /^(?:1?>>?|&>)$/.test(op) && target.value !== '/dev/null')) return `writes a file with \`${op(command)}\``;
  if (WRITING_COMMANDS.has(name)) return `runs \`${name}\``;
  if (name === 'docker') {
    let k = 0;
    if (args[0] === 'compose') k = 1;
    while (k < args.length && args[k]!.startsWith('-')) k += DOCKER_OPTIONS_WITH_VALUE.has(args[k]!) ? 2 : 1;
    const sub = args[k];
    if (sub && !DOCKER_READ_ONLY.has(sub)) return `runs \`docker ${args[0] === 'compose' ? 'compose ' : ''}${sub}\``;
  }
  if (name === 'git' && args.some((arg) => GIT_WRITES.has(arg))) return 'changes a git checkout';
  if (name === 'sed' && args.some((arg) => /^-i/.test(arg))) return 'edits a file with `sed -i`';
  if (name === 'curl' && args.some((arg, k) => /^-(?:d|F|T)$|^--data|^--upload-file/.test(arg) || (/^(?:-X|--request)$/.test(arg) && /^(?:POST|PUT|PATCH|DELETE)$/i.test(args[k + 1] ?? ''))))
    return 'sends a write request with `curl`';
  if (name.endsWith('.sh') || name.endsWith('.py')) return `runs the script \`${name}\``;
  for (const heredoc of command.heredocs) if (CODE_WRITES.test(heredoc.body)) return `writes from the \`${name}\` heredoc`;
  return undefined;
}

function op(command: ShellCommand): string {
  return command.redirects.find(({ op: o }) => /^(?:1?>>?|&>)$/.test(o))?.op ?? '>';
}

/** Why the shell text mutates, or undefined. */
export function shellMutation(text: string): string | undefined {
  for (const command of parseShell(text)) {
    const reason = commandMutation(command);
    if (reason) return reason;
  }
  return undefined;
}

/** Why the step mutates, or undefined for a step that only reads. */
export function stepMutation(step: Step): string | undefined {
  if (step.options.manual) return 'is `manual` (an operator action)';
  if (step.options.confirm) return 'asks to `confirm`';
  // A shell step (`bash step`) is its script.
  if (step.block.lang === 'bash' || step.block.lang === 'sh') return shellMutation(step.block.code);
  const views = scanScript(step.block.code);
  for (const template of views.templates) {
    const text = step.block.code.slice(template.start + 1, template.end - 1);
    const tag = template.tag.replace(/\(.*$/s, '');
    if (tag === 'scp') return 'runs `scp`';
    const shell = tag === 'ssh' ? `ssh host '${text.replace(/'/g, '')}'` : text;
    if (tag.startsWith('$') || tag === 'ssh') {
      const reason = shellMutation(shell);
      if (reason) return reason;
    }
  }
  const write = CODE_WRITES.exec(views.code);
  if (write) return `calls \`${write[0].replace(/\s*\($/, '').replace(/^\./, '')}\``;
  if (HTTP_WRITE_METHOD.test(step.block.code)) return 'sends a write request';
  return undefined;
}
