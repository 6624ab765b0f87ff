import path from 'node:path';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { LineIndex } from '../markdown.ts';
import { SCRIPT_LANGS, SHELL_LANGS } from '../markdown.ts';
import { parseShell, type ShellWord } from '../source/shell.ts';
import type { Region } from './regions.ts';
import type { ClaimContext, Mention } from './types.ts';

/**
 * Mentions that are claims by their context: what a command line does with a word. A word in a command's
 * arguments is the command's business; only these positions say something about the repository:
 * - the program itself when it is a path (`./install.sh`), or the script an interpreter runs (`bash scripts/x.sh`);
 * - the `--flags` that follow a script or program (never those before it: `docker exec --env X c /x.sh`);
 * - the services of a `docker compose` verb, the container of a `docker exec|logs|...` (and nothing after it: the
 *   rest is a command inside the container, whose paths are the container's, not the repo's);
 * - the targets of `make`; `$X` / `${X}` reads and `X=1 cmd` / `-e X=1` settings of env vars.
 */

const LOCAL_SHELL_LANGS = new Set([...SHELL_LANGS, 'console', 'shell-session', 'sh-session', 'shellsession', 'terminal', '']);
const INTERPRETERS = new Set(['bash', 'sh', 'zsh', 'dash', 'ksh', 'python', 'python3', 'node', 'zx', 'tsx', 'ts-node', 'ruby', 'perl', 'deno', 'bun', 'php']);
/** Options of docker and compose that take a value (the next word is not a name). */
const VALUED = new Set([
  '-f', '--file', '-p', '--project-name', '--env-file', '--profile', '--project-directory', '--ansi', '--progress', '--parallel',
  '-e', '--env', '-u', '--user', '-w', '--workdir', '--index', '--tail', '-n', '--since', '--until', '--scale', '-t', '--timeout',
  '--time', '--wait-timeout', '--pull', '--exit-code-from', '--name', '--entrypoint', '-l', '--label', '-v', '--volume',
  '--publish', '--attach', '--no-attach', '--format', '--filter', '--signal', '-s', '--detach-keys', '--type', '-H', '--host',
  '--context', '-c', '--config', '--log-level', '--network', '--mount', '--cap-add', '--privileged-mode',
  // `docker run`'s, so that its image is found after them.
  '--restart', '--hostname', '--add-host', '--memory', '-m', '--shm-size', '--cpus', '--ulimit', '--device', '--dns', '--log-driver',
  '--log-opt', '--stop-timeout', '--tmpfs', '--ip', '--expose', '--platform', '--runtime', '--security-opt', '--sysctl', '--cap-drop',
  '--gpus', '--pid', '--ipc', '--volumes-from', '--link', '--group-add', '--stop-signal', '--health-cmd', '--userns', '--cgroupns',
]);
const COMPOSE_SERVICE_VERBS = new Set(['up', 'start', 'stop', 'restart', 'logs', 'build', 'pull', 'push', 'rm', 'kill', 'create', 'ps', 'pause', 'unpause', 'top', 'events', 'images', 'watch']);
const COMPOSE_COMMAND_VERBS = new Set(['exec', 'run']);
const DOCKER_CONTAINER_ONE = new Set(['exec', 'logs', 'attach', 'top', 'port', 'commit', 'diff', 'export']);
const DOCKER_CONTAINER_MANY = new Set(['restart', 'stop', 'start', 'kill', 'rm', 'pause', 'unpause', 'wait', 'stats', 'inspect', 'update']);
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
/** `rm [-rf] a b`: words separated by blanks the word class never contains, so matching stays linear. */
const REMOVED = /\brm[ \t]+(?:-[A-Za-z]+[ \t]+)*([\w./-]+(?:[ \t]+[\w./-]+)*)/g;
/** A relative file path (`./install.sh`, `scripts/x.sh`), not a URL, a host or a placeholder. */
const FILE_PATH = /^(?:\.{1,2}\/)*[\w.-]+(?:\/[\w.-]+)*$/;
const HOSTNAME = /^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}$/i;
const ENV_REF = /\$\{?([A-Za-z_][A-Za-z0-9_]*)/g;
const ENV_KEY = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;
/** Reads of the environment in code of any language a document shows. */
const ENV_READ =
  /\bprocess\.env(?:\.([A-Z][A-Z0-9_]*)|\[\s*["'`]([A-Z][A-Z0-9_]*)["'`]\s*\])|\bos\.(?:environ(?:\.get)?\s*[[(]\s*|getenv\s*\(\s*)["']([A-Z][A-Z0-9_]*)["']|\bgetenv\s*\(\s*["']([A-Z][A-Z0-9_]*)["']|\bENV\s*\[\s*["']([A-Z][A-Z0-9_]*)["']/g;
/** `^NAME=` in a pattern: the key of an env file. */
const ENV_FILE_KEY = /\^([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)=/g;
/** `export X=...`, `read X`, `for X in`, `local X`: the document's own shell variables. */
const LOCAL_VARIABLE = /(?:^|[;&|]\s*|\b(?:export|local|declare|readonly|typeset)\s+(?:-\w+\s+)*)([A-Za-z_][A-Za-z0-9_]*)=|\bread\s+(?:-\w+\s+)*([A-Za-z_][A-Za-z0-9_]*)|\bfor\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\b/gm;

/** A mention before its span is computed from offsets. */
type Draft = Mention extends infer M ? (M extends Mention ? Omit<M, 'span'> & { start: number; end: number } : never) : never;

/** A console transcript's prompt (`$ `, `$> `, `PS> `) is not part of the command; blanked, offsets kept. */
function withoutPrompts(text: string): string {
  return text.replace(/^([ \t]*)(\$>|PS>|>>>|[$%>])(?=[ \t])/gm, (_, indent: string, prompt: string) => indent + ' '.repeat(prompt.length));
}

export interface CommandClaims {
  mentions: Mention[];
  /** Shell variables the document sets itself: their `$X` reads are not claims about the repository. */
  localVariables: Set<string>;
  /** Paths the document's commands create (normalised, no `./`, no trailing `/`): not claims. */
  localPaths: Set<string>;
}

export const normalisePath = (text: string) => text.replace(/^(?:\.\/)+/, '').replace(/\/+$/, '');

function isShellish(region: Region): boolean {
  if (region.kind === 'inline') return true;
  // An indented block is as often a docs site's admonition (prose, output) as code: never read as commands.
  if (region.kind !== 'code' || region.indented) return false;
  return LOCAL_SHELL_LANGS.has(region.lang ?? '') || SCRIPT_LANGS.has(region.lang ?? '');
}

/** The text of an inline code span without its backticks, at its offset. */
function inlineBody(region: Region): { text: string; offset: number } {
  const open = /^`+\s*/.exec(region.text)?.[0].length ?? 0;
  const close = /\s*`+$/.exec(region.text)?.[0].length ?? 0;
  return { text: region.text.slice(open, region.text.length - close), offset: region.offset + open };
}

/** `{name}`, `$X`, `NAME` (an UPPER_CASE word stands for a value the reader picks), `...`. */
const placeholder = (word: string) =>
  /[<>{}[\]*$|]/.test(word) || word === '...' || /^[A-Z][A-Z0-9_]*$/.test(word) || /^(?:your|my|some)-|(?:container|service)[-_]?(?:name|\d+)$/i.test(word);

export function commandClaims(regions: readonly Region[], lines: LineIndex): CommandClaims {
  const mentions: Mention[] = [];
  const localVariables = new Set<string>();
  const localContainers = new Set<string>();
  const localPaths = new Set<string>();
  for (const region of regions) {
    if (!isShellish(region) || region.kind !== 'code') continue;
    // `X=1` alone (or `X=$(cmd)`), `export X=`, `read X`, `for X in`, `mapfile -t X`: the document's own variables.
    for (const command of parseShell(withoutPrompts(region.text), 0)) {
      const words = command.words.map((word) => word.value);
      if (words.length > 0 && words.every((word) => /^[A-Za-z_]\w*=/.test(word))) for (const word of words) localVariables.add(word.slice(0, word.indexOf('=')));
      const verb = words[0];
      if (verb && /^(?:export|local|declare|readonly|typeset|read|mapfile|readarray)$/.test(verb))
        for (const word of words.slice(1)) if (/^[A-Za-z_]\w*(?:=|$)/.test(word)) localVariables.add(word.split('=')[0]!);
      if (verb === 'for' && words[1]) localVariables.add(words[1]);
      // Paths the document makes (`mkdir data`, `cp a b`'s target, `touch x`, `> out.log`): the reader's, not the repo's.
      const args = words.slice(1).filter((word) => !word.startsWith('-'));
      if (verb === 'mkdir' || verb === 'touch') for (const arg of args) localPaths.add(normalisePath(arg));
      if ((verb === 'cp' || verb === 'mv' || verb === 'ln') && args.length >= 2) localPaths.add(normalisePath(args[args.length - 1]!));
      for (const redirect of command.redirects) if (redirect.op.includes('>')) localPaths.add(normalisePath(redirect.target.value));
    }
  }

  // `rm build/x.d.ts` anywhere in code (a package.json script, a Makefile recipe): a file a build makes and removes.
  for (const region of regions) {
    if (region.kind !== 'code') continue;
    for (const match of region.text.matchAll(REMOVED)) for (const word of match[1]!.split(/\s+/)) if (word && !word.startsWith('-')) localPaths.add(normalisePath(word));
  }

  // A compose file the document shows is the reader's deployment: its services and containers are not the repo's.
  // Its `environment:` keys are settings of the service's image: claims (with the image, for the rule to tell the
  // repo's own image from a third party's: `mysql`'s `MYSQL_USER` is not the repo's business).
  const composeEnv: Draft[] = [];
  for (const region of regions) {
    if (region.kind !== 'code' || !/^(?:ya?ml|compose)$/.test(region.lang ?? '')) continue;
    let document: ReturnType<typeof parseDocument>;
    try {
      document = parseDocument(region.text, { logLevel: 'silent' });
    } catch {
      continue;
    }
    const services = isMap(document.contents) ? document.contents.get('services', true) : undefined;
    if (!isMap(services)) continue;
    for (const pair of services.items) {
      const service = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (!service || !isMap(pair.value)) continue;
      localContainers.add(service);
      const container = pair.value.get('container_name');
      if (typeof container === 'string') localContainers.add(container);
      const image = pair.value.get('image');
      const environment = pair.value.get('environment', true);
      const keys = isSeq(environment) ? environment.items : isMap(environment) ? environment.items.map((item) => item.key) : [];
      for (const key of keys) {
        if (!isScalar(key) || !key.range) continue;
        const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(String(key.value))?.[0];
        if (!name || !ENV_KEY.test(name)) continue;
        const at = region.offset + key.range[0] + (key.type === 'QUOTE_DOUBLE' || key.type === 'QUOTE_SINGLE' ? 1 : 0);
        // Without `image:` the snippet overrides (or builds) a service: the service's name says whose it is.
        const owner = typeof image === 'string' ? { image } : { service };
        composeEnv.push({ kind: 'env', name, prefix: false, text: name, region: 'code', context: 'env-assign', ...owner, start: at, end: at + name.length });
      }
    }
  }

  const add = (mention: Draft) => {
    const { start, end, ...rest } = mention;
    mentions.push({ ...rest, span: lines.span(start, end) } as Mention);
  };
  for (const draft of composeEnv) add(draft);
  const wordSpan = (word: ShellWord, text = word.value) => {
    const at = lines.source.indexOf(text, word.start);
    const start = at === -1 || at > word.start + word.raw.length ? word.start : at;
    return { start, end: start + text.length };
  };
  const region = (r: Region): Mention['region'] => (r.kind === 'code' ? 'code' : 'inline');

  for (const r of regions) {
    if (r.kind !== 'code' && r.kind !== 'inline') continue;
    const body = r.kind === 'inline' ? inlineBody(r) : { text: r.text, offset: r.offset };
    // A console transcript's prompt is not part of the command.
    // `<container>` is a placeholder, not two redirections: `{container}` keeps its length and reads as one.
    const text = withoutPrompts(body.text).replace(/<([A-Za-z][\w .:/-]*)>/g, '{$1}');
    const kind = region(r);
    // Reads of the environment in code of any language the document shows (a runbook's own TS blocks hold their
    // literals only, see regions.ts, so the runner's `process.env` is not taken for a claim).
    for (const match of text.matchAll(ENV_READ)) {
      const name = (match[1] ?? match[2] ?? match[3] ?? match[4] ?? match[5])!;
      const at = body.offset + match.index + match[0].lastIndexOf(name);
      add({ kind: 'env', name, prefix: false, text: name, region: kind, context: 'env-read', start: at, end: at + name.length });
    }
    for (const match of text.matchAll(ENV_FILE_KEY)) {
      const at = body.offset + match.index + 1;
      add({ kind: 'env', name: match[1]!, prefix: false, text: match[1]!, region: kind, context: 'env-file', start: at, end: at + match[1]!.length });
    }
    if (!isShellish(r)) continue;
    // An inline span of one word is a name (`devservices/config.yml`, `./data/x.json`), not a command.
    if (r.kind === 'inline' && !/\s/.test(text.trim())) continue;
    // In a TS/JS block only the zx templates are shell; elsewhere in it, `'zx/core'` is a module name.
    const pieces = r.commands ? r.commands.map(({ start, end }) => ({ text: text.slice(start, end), offset: body.offset + start })) : [{ text, offset: body.offset }];
    const scope: CommandScope = { kind, add, wordSpan, inContainer: false, cwd: undefined, localContainers };
    for (const piece of pieces) for (const command of parseShell(piece.text, piece.offset)) claimsOfCommand(command.words, scope);
    for (const match of text.matchAll(ENV_REF)) {
      const name = match[1]!;
      if (!ENV_KEY.test(name) || localVariables.has(name)) continue;
      const at = body.offset + match.index + match[0].length - name.length;
      add({ kind: 'env', name, prefix: false, text: name, region: kind, context: 'env-read', start: at, end: at + name.length });
    }
  }
  return { mentions, localVariables, localPaths };
}

interface CommandScope {
  kind: Mention['region'];
  add: (mention: Draft) => void;
  wordSpan: (word: ShellWord, text?: string) => { start: number; end: number };
  /** Inside `docker exec` / `compose exec|run`: paths are the container's. */
  inContainer: boolean;
  /** The folder an earlier `cd` of the same block moved to (repo-relative as written). */
  cwd: string | undefined;
  /** Containers the document makes itself (`docker run --name x`): not the repo's. */
  localContainers: Set<string>;
}

function claimsOfCommand(words: readonly ShellWord[], scope: CommandScope): void {
  let k = 0;
  // `X=1 cmd` sets X for a program; `X=1 Y=2` alone (or a line of `A=0.3, B=1` output) only sets shell variables.
  const assigns = /^[A-Za-z_][A-Za-z0-9_]*=/;
  const runsProgram = words.some((word) => !assigns.test(word.value));
  // Wrappers and env settings before the program: `sudo`, `env`, `X=1 cmd`.
  while (k < words.length) {
    const value = words[k]!.value;
    const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(value);
    if (assignment) {
      if (runsProgram && ENV_KEY.test(assignment[1]!)) {
        const span = scope.wordSpan(words[k]!, assignment[1]!);
        scope.add({ kind: 'env', name: assignment[1]!, prefix: false, text: assignment[1]!, region: scope.kind, context: 'env-assign', ...span });
      }
      k++;
      continue;
    }
    if (value === 'sudo' || value === 'env' || value === 'exec' || value === 'time' || value === 'nohup' || value === '!') {
      k++;
      continue;
    }
    break;
  }
  const programWord = words[k];
  // `--env X=1` on its own: the option a document tells the reader to add to the repo's container (`docker run`).
  if (programWord && /^(?:-e|--env)(?:=|$)/.test(programWord.value)) return containerEnv(words.slice(k), scope);
  if (!programWord || placeholder(programWord.value)) return;
  const program = programWord.value;
  const name = program.split('/').pop() ?? program;
  const rest = words.slice(k + 1);

  if ((name === 'docker' || name === 'podman') && rest[0]?.value === 'compose') return composeClaims(rest.slice(1), scope);
  if (name === 'docker-compose' || name === 'podman-compose') return composeClaims(rest, scope);
  if (name === 'docker' || name === 'podman') return dockerClaims(rest[0]?.value === 'container' ? rest.slice(1) : rest, scope);
  if (name === 'make' || name === 'gmake') return makeClaims(rest, scope);
  if (name === 'cd' && !scope.inContainer) {
    const target = rest[0]?.value.replace(/\/+$/, '');
    scope.cwd = target && FILE_PATH.test(target) && !target.startsWith('..') ? path.posix.join(scope.cwd ?? '', target) : undefined;
    return;
  }

  // The program is a path: `./install.sh`, `scripts/deploy.sh` (not `/usr/bin/env`, not inside a container).
  let script: ShellWord | undefined;
  if (program.includes('/') && FILE_PATH.test(program) && !HOSTNAME.test(program.split('/')[0]!) && programWord.raw.length === program.length && /^\.\.?\//.test(program)) {
    script = programWord;
    if (!scope.inContainer)
      scope.add({ kind: 'path', claim: 'relative', text: program, region: scope.kind, context: 'command', ...(scope.cwd ? { cwd: scope.cwd } : {}), ...scope.wordSpan(programWord) });
  } else if (INTERPRETERS.has(name)) {
    const target = rest.find((word) => !word.value.startsWith('-'));
    if (target && !placeholder(target.value) && /\.\w+$/.test(target.value)) {
      script = target;
      if (!scope.inContainer && target.value.includes('/') && FILE_PATH.test(target.value) && !HOSTNAME.test(target.value.split('/')[0]!))
        scope.add({ kind: 'path', claim: 'relative', text: target.value, region: scope.kind, context: 'command', ...(scope.cwd ? { cwd: scope.cwd } : {}), ...scope.wordSpan(target) });
    }
  }
  const owner = script ?? programWord;
  const scriptName = (owner.value.split('/').pop() ?? owner.value).replace(/[.,;]+$/, '');
  const from = words.indexOf(owner) + 1;
  for (const word of words.slice(from)) {
    if (word.value === '--') break;
    const flag = /^--[A-Za-z0-9][\w-]*/.exec(word.value)?.[0];
    if (!flag) continue;
    const at = scope.wordSpan(word, flag);
    scope.add({ kind: 'flag', flag, script: scriptName, text: flag, region: scope.kind, context: 'command', ...at });
  }
}

/** `-e X=1`, `--env X=1`, `--env=X=1`, `-eX=1` among `words`: settings of a container (of `image` when known). */
function containerEnv(words: readonly ShellWord[], scope: CommandScope, image?: string): void {
  for (let k = 0; k < words.length; k++) {
    const value = words[k]!.value;
    const option = /^(?:-e|--env)(?:=?(.*))?$/.exec(value);
    if (!option) continue;
    const word = option[1] ? words[k]! : words[k + 1];
    const name = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(option[1] ? option[1] : (word?.value ?? ''))?.[1];
    if (!word || !name || !ENV_KEY.test(name)) continue;
    scope.add({ kind: 'env', name, prefix: false, text: name, region: scope.kind, context: 'env-assign', ...(image ? { image } : {}), ...scope.wordSpan(word, name) });
  }
}

/** Skips options (and the value of those that take one); returns the index of the next operand. */
function nextOperand(words: readonly ShellWord[], from: number): number {
  let k = from;
  while (k < words.length) {
    const value = words[k]!.value;
    if (!value.startsWith('-') || value === '-') return k;
    k += VALUED.has(value) ? 2 : 1;
  }
  return k;
}

function nameClaim(word: ShellWord, role: 'service' | 'container', context: ClaimContext, scope: CommandScope, text = word.value): void {
  if (scope.localContainers.has(text)) return;
  if (placeholder(text) || !NAME.test(text) || /^\d+$/.test(text)) return;
  scope.add({ kind: 'compose', name: text, role, text, region: scope.kind, context, ...scope.wordSpan(word, text) });
}

function composeClaims(words: readonly ShellWord[], scope: CommandScope): void {
  // `docker compose up / down`: prose listing alternatives of verbs, not a command naming services.
  if (words.some((word) => word.value === '/')) return;
  const at = nextOperand(words, 0);
  const verb = words[at]?.value;
  if (!verb) return;
  if (COMPOSE_COMMAND_VERBS.has(verb)) {
    const service = nextOperand(words, at + 1);
    if (!words[service]) return;
    nameClaim(words[service]!, 'service', 'compose', scope);
    claimsOfCommand(words.slice(service + 1), { ...scope, inContainer: true });
    return;
  }
  if (!COMPOSE_SERVICE_VERBS.has(verb)) return;
  for (let k = nextOperand(words, at + 1); k < words.length; k = nextOperand(words, k + 1)) nameClaim(words[k]!, 'service', 'compose', scope);
}

function dockerClaims(words: readonly ShellWord[], scope: CommandScope): void {
  const verb = words[0]?.value;
  if (!verb) return;
  if (verb === 'run' || verb === 'create') {
    const named = words.findIndex((word) => word.value === '--name' || word.value.startsWith('--name='));
    const value = named === -1 ? undefined : words[named]!.value.includes('=') ? words[named]!.value.split('=')[1] : words[named + 1]?.value;
    if (value) scope.localContainers.add(value);
    // The image is the first operand; the `-e X=1` options before it are its settings (nothing when it is not found).
    const image = words[nextOperand(words, 1)]?.value;
    if (image && !placeholder(image)) containerEnv(words.slice(1, nextOperand(words, 1)), scope, image);
    return;
  }
  if (verb === 'cp') {
    for (const word of words.slice(1)) {
      const container = /^([A-Za-z0-9][A-Za-z0-9_.-]*):/.exec(word.value)?.[1];
      if (container) nameClaim(word, 'container', 'docker', scope, container);
    }
    return;
  }
  if (verb === 'ps') {
    for (const word of words) {
      const container = /^name=([A-Za-z0-9][A-Za-z0-9_.-]*)$/.exec(word.value)?.[1];
      if (container) nameClaim(word, 'container', 'docker', scope, container);
    }
    return;
  }
  if (DOCKER_CONTAINER_ONE.has(verb)) {
    const at = nextOperand(words, 1);
    if (!words[at]) return;
    nameClaim(words[at]!, 'container', 'docker', scope);
    if (verb === 'exec') claimsOfCommand(words.slice(at + 1), { ...scope, inContainer: true });
    return;
  }
  if (DOCKER_CONTAINER_MANY.has(verb)) for (let k = nextOperand(words, 1); k < words.length; k = nextOperand(words, k + 1)) nameClaim(words[k]!, 'container', 'docker', scope);
}

function makeClaims(words: readonly ShellWord[], scope: CommandScope): void {
  let makefile: string | undefined;
  let k = 0;
  while (k < words.length) {
    const value = words[k]!.value;
    if (value === '-C' || value === '--directory') {
      makefile = `${words[k + 1]?.value.replace(/\/$/, '')}/Makefile`;
      k += 2;
    } else if (value === '-f' || value === '--file') {
      makefile = words[k + 1]?.value;
      k += 2;
    } else if (value.startsWith('-')) {
      k += /^-[IoWj]$/.test(value) && words[k + 1] && /^\d+$|\//.test(words[k + 1]!.value) ? 2 : 1;
    } else {
      if (!value.includes('=') && !placeholder(value) && NAME.test(value))
        scope.add({ kind: 'make', target: value, text: value, region: scope.kind, context: 'command', ...(makefile ? { makefile } : {}), ...scope.wordSpan(words[k]!) });
      k++;
    }
  }
}
