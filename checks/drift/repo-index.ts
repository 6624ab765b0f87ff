import { open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';

/** A file the repo runs as a script (its flags and steps are claims a document can make). */
export const SCRIPT_FILE = /\.(?:py|sh|bash|js|mjs|cjs|ts|rb|pl)$/;

/**
 * Everything the drift rules ask of the platform repo, built in one walk that reads each text file once:
 * paths, the names code defines, the env vars code names, each script's flags, compose services and containers.
 * `npm run bench` holds this to 2 s on a 10,000-file repo, so it is all regexes and sets, no per-mention I/O.
 */
export interface ClassInfo {
  members: Set<string>;
  /** Members were read with their class (Python indentation); otherwise any member name the repo defines counts. */
  exact: boolean;
}

export interface RepoIndex {
  root: string;
  /** Repo-relative, `/`-separated. */
  files: Set<string>;
  dirs: Set<string>;
  basenames: Map<string, string[]>;
  /** First path segments: what an absolute path's tail must start with to be a claim about this repo. */
  topLevel: Set<string>;
  /** UPPER_CASE names code (not docs, not `.env` examples) mentions: the env var contract. */
  envVars: Set<string>;
  /** Functions and methods defined anywhere. */
  functions: Set<string>;
  classes: Map<string, ClassInfo>;
  /** Script basename to the `--flags` its source knows. */
  flags: Map<string, Set<string>>;
  compose: { services: Set<string>; containers: Set<string>; projects: Set<string> };
  /** Contents of code files, for quoted error texts. */
  sources: string[];
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', '__pycache__', '.venv', 'venv', '.mypy_cache', '.pytest_cache', '.tox']);
const BINARY = /\.(?:png|jpe?g|gif|ico|webp|pdf|zip|gz|tgz|bz2|xz|tar|woff2?|ttf|otf|eot|so|dylib|dll|exe|wasm|jar|class|pyc|db|sqlite3?|mp[34]|mov)$/i;
const DOCS = /\.(?:md|markdown|txt|rst|adoc)$/i;
const MAX_BYTES = 1_000_000;
const CONCURRENCY = 64;

const ENV_NAME = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g;
const FLAG = /(?<![\w-])--[A-Za-z][\w-]*/g;
const PY_DEFINITION = /^([ \t]*)(class|def|async[ \t]+def)[ \t]+([A-Za-z_]\w*)/gm;
const JS_DEFINITION =
  /\bclass\s+([A-Za-z_$][\w$]*)|\bfunction\s*\*?\s*([A-Za-z_$][\w$]*)|\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:async\s*)?(?:\([^)]*\)\s*=>|[A-Za-z_$][\w$]*\s*=>|function)|^[ \t]+(?:(?:async|static|public|private|protected|get|set)\s+)*([A-Za-z_$][\w$]*)\s*\([^)]*\)\s*(?::[^{;]*)?\{/gm;
const SH_DEFINITION = /^[ \t]*(?:function[ \t]+)?([A-Za-z_][\w-]*)[ \t]*\(\)[ \t]*\{?|^[ \t]*function[ \t]+([A-Za-z_][\w-]*)/gm;
const COMPOSE_FILE = /^(?:docker-)?compose(?:[.-][\w.-]+)?\.ya?ml$/;

export function emptyRepoIndex(root: string): RepoIndex {
  return {
    root,
    files: new Set(),
    dirs: new Set(),
    basenames: new Map(),
    topLevel: new Set(),
    envVars: new Set(),
    functions: new Set(),
    classes: new Map(),
    flags: new Map(),
    compose: { services: new Set(), containers: new Set(), projects: new Set() },
    sources: [],
  };
}

async function walk(root: string, index: RepoIndex): Promise<string[]> {
  const files: string[] = [];
  const pending = [''];
  while (pending.length > 0) {
    const batch = pending.splice(0, CONCURRENCY);
    const listings = await Promise.all(batch.map((dir) => readdir(path.join(root, dir), { withFileTypes: true }).then((entries) => ({ dir, entries }))));
    for (const { dir, entries } of listings) {
      for (const entry of entries) {
        const relative = dir ? `${dir}/${entry.name}` : entry.name;
        if (entry.isDirectory()) {
          if (SKIP_DIRS.has(entry.name)) continue;
          index.dirs.add(relative);
          pending.push(relative);
        } else if (entry.isFile() || entry.isSymbolicLink()) {
          files.push(relative);
        }
        if (!dir) index.topLevel.add(entry.name);
      }
    }
  }
  return files;
}

async function readText(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const { size } = await handle.stat();
    if (size > MAX_BYTES) return undefined;
    const buffer = Buffer.alloc(size);
    await handle.read(buffer, 0, size, 0);
    if (buffer.subarray(0, 8000).includes(0)) return undefined;
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

function addClass(index: RepoIndex, name: string, exact: boolean): ClassInfo {
  let info = index.classes.get(name);
  if (!info) {
    info = { members: new Set(), exact };
    index.classes.set(name, info);
  }
  return info;
}

function indexPython(text: string, index: RepoIndex): void {
  const stack: { indent: number; info: ClassInfo }[] = [];
  for (const match of text.matchAll(PY_DEFINITION)) {
    const indent = match[1]!.replace(/\t/g, '    ').length;
    const name = match[3]!;
    while (stack.length > 0 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    if (match[2] === 'class') {
      stack.push({ indent, info: addClass(index, name, true) });
    } else {
      index.functions.add(name);
      stack[stack.length - 1]?.info.members.add(name);
    }
  }
}

function indexScript(text: string, index: RepoIndex): void {
  for (const match of text.matchAll(JS_DEFINITION)) {
    if (match[1]) addClass(index, match[1], false);
    else index.functions.add((match[2] ?? match[3] ?? match[4])!);
  }
}

function indexCompose(text: string, index: RepoIndex): void {
  let document: unknown;
  try {
    document = parseYaml(text, { logLevel: 'silent', merge: true });
  } catch {
    return; // A broken compose file claims nothing; the path rule still sees whether it exists.
  }
  if (!document || typeof document !== 'object') return;
  const { name, services } = document as { name?: unknown; services?: unknown };
  if (typeof name === 'string') index.compose.projects.add(name);
  if (!services || typeof services !== 'object') return;
  for (const [service, definition] of Object.entries(services as Record<string, unknown>)) {
    index.compose.services.add(service);
    const container = definition && typeof definition === 'object' ? (definition as Record<string, unknown>)['container_name'] : undefined;
    if (typeof container === 'string') index.compose.containers.add(container);
  }
}

const PY_FLAG = /["'](--[A-Za-z][\w-]*)["']/g;
const SH_CASE_ARM = /^[ \t]*\(?[ \t]*((?:-{1,2}[\w-]+[ \t]*\|[ \t]*)*-{1,2}[\w-]+)[ \t]*\)/gm;
const SH_TEST = /==?[ \t]*["']?(--[A-Za-z][\w-]*)/g;
const USAGE_LINE = /^.*usage.*$/gim;

/**
 * The flags a script itself accepts, not those of the commands it runs (`docker ... --env-file`): argparse-style
 * string literals in Python; `case` arms, `[[ $1 == --x ]]` tests and usage lines in shell. Anything else (or a
 * script where none of these is found) falls back to every `--flag` in the file.
 */
export function scriptFlags(basename: string, text: string): Set<string> {
  const flags = new Set<string>();
  const add = (source: string) => {
    for (const match of source.matchAll(FLAG)) flags.add(match[0]);
  };
  if (basename.endsWith('.py')) {
    for (const match of text.matchAll(PY_FLAG)) flags.add(match[1]!);
  } else if (/\.(?:sh|bash)$/.test(basename) || /^#!.*\b(?:ba|z|k)?sh\b/.test(text.slice(0, 80))) {
    for (const match of text.matchAll(SH_CASE_ARM)) add(match[1]!);
    for (const match of text.matchAll(SH_TEST)) flags.add(match[1]!);
    for (const match of text.matchAll(USAGE_LINE)) add(match[0]);
  }
  if (flags.size === 0) add(text);
  return flags;
}

function indexFile(relative: string, text: string, index: RepoIndex): void {
  const basename = relative.slice(relative.lastIndexOf('/') + 1);
  const isDoc = DOCS.test(basename) || basename.startsWith('.env');
  if (COMPOSE_FILE.test(basename)) indexCompose(text, index);
  if (isDoc) return;
  index.sources.push(text);
  for (const match of text.matchAll(ENV_NAME)) index.envVars.add(match[0]);
  if (basename.endsWith('.py')) indexPython(text, index);
  else if (/\.(?:[cm]?[jt]sx?)$/.test(basename)) indexScript(text, index);
  if (/\.(?:sh|bash)$/.test(basename) || /^#!.*\b(?:ba|z|k)?sh\b/.test(text.slice(0, 80)))
    for (const match of text.matchAll(SH_DEFINITION)) index.functions.add((match[1] ?? match[2])!);
  if (SCRIPT_FILE.test(basename) || text.startsWith('#!')) {
    let flags = index.flags.get(basename);
    if (!flags) index.flags.set(basename, (flags = new Set()));
    for (const flag of scriptFlags(basename, text)) flags.add(flag);
  }
}

export async function indexRepo(root: string): Promise<RepoIndex> {
  const index = emptyRepoIndex(root);
  const files = await walk(root, index);
  for (const relative of files) {
    index.files.add(relative);
    const basename = relative.slice(relative.lastIndexOf('/') + 1);
    const list = index.basenames.get(basename);
    if (list) list.push(relative);
    else index.basenames.set(basename, [relative]);
  }
  const readable = files.filter((relative) => !BINARY.test(relative));
  for (let i = 0; i < readable.length; i += CONCURRENCY) {
    const batch = readable.slice(i, i + CONCURRENCY);
    const texts = await Promise.all(batch.map((relative) => readText(path.join(root, relative))));
    batch.forEach((relative, k) => {
      const text = texts[k];
      if (text !== undefined) indexFile(relative, text, index);
    });
  }
  return index;
}

const squash = (text: string) => text.replace(/\s+/g, ' ');
const squashedSources = new WeakMap<RepoIndex, string[]>();

/** Whether any code file contains `text`, runs of whitespace counting as one (a message wrapped across lines). */
export function codeContains(index: RepoIndex, text: string): boolean {
  let sources = squashedSources.get(index);
  if (!sources) squashedSources.set(index, (sources = index.sources.map(squash)));
  const wanted = squash(text);
  return sources.some((source) => source.includes(wanted));
}
