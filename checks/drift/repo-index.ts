import type { Dirent } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { parse as parseYaml } from 'yaml';
import { LineIndex } from '../markdown.ts';

/** A file the repo runs as a script (its flags and steps are claims a document can make). */
export const SCRIPT_FILE = /\.(?:py|sh|bash|js|mjs|cjs|ts|rb|pl)$/;

/**
 * Everything the drift rules ask of the platform repo, built in one walk that reads each text file once:
 * paths, the names code defines, the env vars code names, each script's flags, compose services and containers,
 * make targets, and where each of them is (file and line), which is what a binding records.
 * `npm run bench` holds this to 2 s on a 10,000-file repo, so it is all regexes and maps, no per-mention I/O.
 */

/** Where a name is: the repo file (repo-relative, `/`-separated) and the 1-based line. */
export interface Location {
  file: string;
  line: number;
}

export interface ClassInfo {
  members: Map<string, Location>;
  /** Members were read with their class (Python indentation); otherwise any member name the repo defines counts. */
  exact: boolean;
  at: Location;
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
  envVars: Map<string, Location>;
  /** `'ZX_'`: a string literal the code builds variable names from (`ZX_` + an option name). */
  envPrefixes: Map<string, Location>;
  /** Functions and methods defined anywhere. */
  functions: Map<string, Location>;
  classes: Map<string, ClassInfo>;
  /** Script basename to the `--flags` its source knows. */
  flags: Map<string, Map<string, Location>>;
  /** Scripts that pass their arguments on to another program: any flag may be theirs. */
  openFlags: Set<string>;
  /** Script basename to its repo paths (a flag binds to the script file). */
  scripts: Map<string, string[]>;
  /** Commands the repo installs (package.json `bin`): name to the files that may implement them (built, source). */
  programs: Map<string, string[]>;
  /** Compose services and containers; `images`: the names (no registry, no tag) of the images its services run. */
  compose: { services: Map<string, Location>; containers: Map<string, Location>; projects: Set<string>; images: Set<string> };
  /**
   * Containers the repo's docs make themselves (`docker run --name dms ...`): the reader's, named as the reader likes.
   * One document's own such names are already not claims in it; these are the names across the docs.
   */
  docContainers: Set<string>;
  /** Quoted kebab- or word-shaped strings in code and config: containers made outside compose (`"nextcloud-aio-x"`). */
  quoted: Map<string, Location>;
  /** Makefile (repo path) to its targets. */
  makeTargets: Map<string, Map<string, Location>>;
  /** What `.gitignore` files exclude: generated files a document may name although the tree does not have them. */
  ignored: (relative: string) => boolean;
  /** Contents of code files, for quoted error texts. */
  sources: string[];
  /** What the walk left out, with why (a symlinked directory, an unreadable file): reported, never fatal. */
  skipped: { path: string; why: string }[];
}

const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', '__pycache__', '.venv', 'venv', '.mypy_cache', '.pytest_cache', '.tox']);
const BINARY = /\.(?:png|jpe?g|gif|ico|webp|svg|pdf|zip|gz|tgz|bz2|xz|tar|woff2?|ttf|otf|eot|so|dylib|dll|exe|wasm|jar|class|pyc|db|sqlite3?|mp[34]|mov|map)$/i;
export const DOCS = /\.(?:md|markdown|mdx|txt|rst|adoc)$/i;
const MAX_BYTES = 1_000_000;
const CONCURRENCY = 64;

const ENV_NAME = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g;
const ENV_PREFIX = /["'`]([A-Z][A-Z0-9]*_)["'`]/g;
/** `docker run ... --name x` (or `podman create --name=x`), the options possibly on continuation lines. */
const DOC_CONTAINER = /\b(?:docker|podman)[ \t]+(?:container[ \t]+)?(?:run|create)\b[^\n]*(?:\\\n[^\n]*)*?[ \t]--name[ \t=]+([A-Za-z0-9][\w.-]*)/g;
const QUOTED_NAME = /["']([a-z0-9][a-z0-9_.-]{1,62})["']/g;
const FLAG = /(?<![\w-])--[A-Za-z][\w-]*/g;
const PY_DEFINITION = /^([ \t]*)(class|def|async[ \t]+def)[ \t]+([A-Za-z_]\w*)/gm;
const JS_DEFINITION =
  /\bclass\s+([A-Za-z_$][\w$]*)|\bfunction\s*\*?\s*([A-Za-z_$][\w$]*)|\b(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=\n]*)?=\s*(?:async\s*)?(?:\([^)]*\)\s*(?::[^=\n]*)?=>|[A-Za-z_$][\w$]*\s*=>|function)|^[ \t]+(?:(?:async|static|public|private|protected|get|set)\s+)*([A-Za-z_$][\w$]*)\s*\([^)]*\)\s*(?::[^{;]*)?\{/gm;
const SH_DEFINITION = /^[ \t]*(?:function[ \t]+)?([A-Za-z_][\w-]*)[ \t]*\(\)[ \t]*\{?|^[ \t]*function[ \t]+([A-Za-z_][\w-]*)/gm;
const GO_DEFINITION = /^func\s+(?:\([^)]*\)\s*)?([A-Za-z_]\w*)/gm;
const FORWARDS_ARGS = /"\$@"|\$\*|\bsys\.argv\[1:\]|process\.argv\.slice\(2\)/;
/** `export const glob = ...`, `export { tempdir as tmpdir }`: what a module offers, whatever the value's shape. */
/** `private _resolve!: Resolve`: a class member declared with a modifier (assigned a function later). */
const TS_MEMBER = /^[ \t]+(?:(?:private|protected|public|readonly|static|declare|override)\s+)+([A-Za-z_$][\w$]*)[!?]?\s*[:=(]/gm;
const JS_EXPORT = /\bexport\s+(?:default\s+)?(?:declare\s+)?(?:async\s+)?(?:const|let|var|function\*?|class)\s+([A-Za-z_$][\w$]*)|\bexport\s*(?:type\s*)?\{([^}]*)\}/g;
const COMPOSE_FILE = /^(?:docker-)?compose(?:[.-][\w.-]+)?\.ya?ml$/;
const MAKEFILE = /^(?:GNUmakefile|[Mm]akefile|[\w.-]+\.mk)$/;
const MAKE_RULE = /^([A-Za-z0-9_.%/-][^:=#\n]*?)[ \t]*::?(?!=)/gm;

export function emptyRepoIndex(root: string): RepoIndex {
  return {
    root,
    files: new Set(),
    dirs: new Set(),
    basenames: new Map(),
    topLevel: new Set(),
    envVars: new Map(),
    envPrefixes: new Map(),
    functions: new Map(),
    classes: new Map(),
    flags: new Map(),
    scripts: new Map(),
    openFlags: new Set(),
    programs: new Map(),
    compose: { services: new Map(), containers: new Map(), projects: new Set(), images: new Set() },
    quoted: new Map(),
    docContainers: new Set(),
    makeTargets: new Map(),
    ignored: () => false,
    sources: [],
    skipped: [],
  };
}

/** 1-based line of an offset: the file's LineIndex, built only when a name is new (most files add none). */
class Lines {
  private index?: LineIndex;
  constructor(private readonly text: string) {}
  at(offset: number): number {
    return (this.index ??= new LineIndex(this.text)).point(offset).line;
  }
}

/** Keeps the first place a name is seen: a binding points at one definite spot. */
function remember(map: Map<string, Location>, name: string, file: string, lines: Lines, offset: number): void {
  if (!map.has(name)) map.set(name, { file, line: lines.at(offset) });
}

interface Walked {
  files: string[];
  /** Symlinks to files: their path exists, their content is read through the link. */
  links: string[];
}

async function walk(root: string, index: RepoIndex): Promise<Walked> {
  const files: string[] = [];
  const links: string[] = [];
  const pending = [''];
  while (pending.length > 0) {
    const batch = pending.splice(0, CONCURRENCY);
    const listings = await Promise.all(
      batch.map((dir) =>
        readdir(path.join(root, dir), { withFileTypes: true })
          .then((entries) => ({ dir, entries }))
          .catch((error: NodeJS.ErrnoException) => {
            index.skipped.push({ path: dir, why: `unreadable directory (${error.code ?? error.message})` });
            return { dir, entries: [] as Dirent[] };
          }),
      ),
    );
    for (const { dir, entries } of listings) {
      for (const entry of entries) {
        const relative = dir ? `${dir}/${entry.name}` : entry.name;
        if (!dir) index.topLevel.add(entry.name);
        if (entry.isDirectory()) {
          if (SKIP_DIRS.has(entry.name)) continue;
          index.dirs.add(relative);
          pending.push(relative);
        } else if (entry.isFile()) {
          files.push(relative);
        } else if (entry.isSymbolicLink()) {
          links.push(relative);
        }
      }
    }
  }
  // A symlinked directory is a path the repo has, but it is not walked (it may loop, or lead out of the repo).
  await Promise.all(
    links.map(async (relative) => {
      const target = await stat(path.join(root, relative)).catch(() => undefined);
      if (target?.isDirectory()) {
        index.dirs.add(relative);
        index.skipped.push({ path: relative, why: 'symlinked directory' });
      } else if (target?.isFile()) {
        files.push(relative);
      } else {
        index.files.add(relative);
        index.skipped.push({ path: relative, why: 'dangling symlink' });
      }
    }),
  );
  return { files, links };
}

async function readText(file: string): Promise<{ text?: string; error?: string }> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    return { error: (error as NodeJS.ErrnoException).code ?? String(error) };
  }
  try {
    const { size } = await handle.stat();
    if (size > MAX_BYTES) return {};
    const buffer = Buffer.alloc(size);
    await handle.read(buffer, 0, size, 0);
    if (buffer.subarray(0, 8000).includes(0)) return {};
    return { text: buffer.toString('utf8') };
  } catch (error) {
    return { error: (error as NodeJS.ErrnoException).code ?? String(error) };
  } finally {
    await handle.close();
  }
}

function addClass(index: RepoIndex, name: string, exact: boolean, at: Location): ClassInfo {
  let info = index.classes.get(name);
  if (!info) {
    info = { members: new Map(), exact, at };
    index.classes.set(name, info);
  }
  return info;
}

function indexPython(relative: string, text: string, lines: Lines, index: RepoIndex): void {
  const stack: { indent: number; info: ClassInfo }[] = [];
  for (const match of text.matchAll(PY_DEFINITION)) {
    const indent = match[1]!.replace(/\t/g, '    ').length;
    const name = match[3]!;
    while (stack.length > 0 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    if (match[2] === 'class') {
      stack.push({ indent, info: addClass(index, name, true, { file: relative, line: lines.at(match.index) }) });
    } else {
      remember(index.functions, name, relative, lines, match.index);
      const owner = stack[stack.length - 1]?.info;
      if (owner && !owner.members.has(name)) owner.members.set(name, { file: relative, line: lines.at(match.index) });
    }
  }
}

function indexScript(relative: string, text: string, lines: Lines, index: RepoIndex): void {
  for (const match of text.matchAll(JS_DEFINITION)) {
    if (match[1]) addClass(index, match[1], false, { file: relative, line: lines.at(match.index) });
    else remember(index.functions, (match[2] ?? match[3] ?? match[4])!, relative, lines, match.index);
  }
  for (const match of text.matchAll(TS_MEMBER)) remember(index.functions, match[1]!, relative, lines, match.index);
  for (const match of text.matchAll(JS_EXPORT)) {
    if (match[1]) remember(index.functions, match[1], relative, lines, match.index);
    else
      for (const item of match[2]!.split(',')) {
        const name = item.trim().split(/\s+as\s+/).pop()?.trim();
        if (name && /^[A-Za-z_$][\w$]*$/.test(name)) remember(index.functions, name, relative, lines, match.index);
      }
  }
}

function indexCompose(relative: string, text: string, lines: Lines, index: RepoIndex): void {
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
    const at = Math.max(0, text.search(new RegExp(`^[ \\t]+${service.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[ \\t]*:`, 'm')));
    remember(index.compose.services, service, relative, lines, at);
    const container = definition && typeof definition === 'object' ? (definition as Record<string, unknown>)['container_name'] : undefined;
    if (typeof container === 'string') remember(index.compose.containers, container, relative, lines, Math.max(0, text.indexOf(container)));
    const image = definition && typeof definition === 'object' ? (definition as Record<string, unknown>)['image'] : undefined;
    if (typeof image === 'string') index.compose.images.add(imageName(image));
  }
}

/** `ghcr.io/nextcloud-releases/all-in-one:latest` -> `all-in-one`: an image's own name, wherever it is published. */
export function imageName(image: string): string {
  return image.replace(/@.*$/, '').replace(/:[^/]*$/, '').split('/').pop() ?? image;
}

function indexMakefile(relative: string, text: string, lines: Lines, index: RepoIndex): void {
  const targets = new Map<string, Location>();
  for (const match of text.matchAll(MAKE_RULE)) {
    for (const target of match[1]!.trim().split(/\s+/)) {
      if (/[$%]/.test(target) || target.startsWith('.')) continue;
      if (!targets.has(target)) targets.set(target, { file: relative, line: lines.at(match.index) });
    }
  }
  index.makeTargets.set(relative, targets);
}

function indexPackageJson(relative: string, text: string, index: RepoIndex): void {
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch {
    return;
  }
  if (!manifest || typeof manifest !== 'object') return;
  const { name, bin } = manifest as { name?: unknown; bin?: unknown };
  const folder = relative.includes('/') ? relative.slice(0, relative.lastIndexOf('/') + 1) : '';
  const add = (command: string, file: unknown) => {
    if (typeof file !== 'string' || index.programs.has(command)) return;
    const built = path.posix.normalize(folder + file);
    // A built entry point (`build/cli.js`) is often not in the tree; its source (`src/cli.ts`) is.
    const source = built.replace(new RegExp(`^${folder}(?:build|dist|lib|out)/`), `${folder}src/`).replace(/\.[cm]?js$/, '.ts');
    index.programs.set(command, [built, source]);
  };
  if (typeof bin === 'string' && typeof name === 'string') add(name.replace(/^@[^/]+\//, ''), bin);
  else if (bin && typeof bin === 'object') for (const [command, file] of Object.entries(bin)) add(command, file);
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
export function scriptFlags(basename: string, text: string): Map<string, number> {
  const flags = new Map<string, number>();
  const add = (flag: string, at: number) => {
    if (!flags.has(flag)) flags.set(flag, at);
  };
  const addAll = (source: string, base: number) => {
    for (const match of source.matchAll(FLAG)) add(match[0], base + match.index);
  };
  if (basename.endsWith('.py')) {
    for (const match of text.matchAll(PY_FLAG)) add(match[1]!, match.index);
  } else if (/\.(?:sh|bash)$/.test(basename) || /^#!.*\b(?:ba|z|k)?sh\b/.test(text.slice(0, 80))) {
    for (const match of text.matchAll(SH_CASE_ARM)) addAll(match[1]!, match.index);
    for (const match of text.matchAll(SH_TEST)) add(match[1]!, match.index);
    for (const match of text.matchAll(USAGE_LINE)) addAll(match[0], match.index);
  }
  if (flags.size === 0) addAll(text, 0);
  return flags;
}

/** `.gitignore` lines as picomatch patterns, anchored at the folder of the file that holds them. */
function gitignorePatterns(relative: string, text: string): { negate: boolean; match: (path: string) => boolean }[] {
  const folder = relative.includes('/') ? relative.slice(0, relative.lastIndexOf('/') + 1) : '';
  const rules: { negate: boolean; match: (path: string) => boolean }[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const negate = line.startsWith('!');
    if (negate) line = line.slice(1);
    line = line.replace(/\/+$/, '');
    const anchored = line.includes('/');
    const glob = `${folder}${anchored ? line.replace(/^\//, '') : `**/${line}`}`;
    // A pattern excludes what it names and, when that is a folder, everything under it.
    rules.push({ negate, match: picomatch([glob, `${glob}/**`], { dot: true }) });
  }
  return rules;
}

function indexFile(relative: string, text: string, index: RepoIndex, ignores: ReturnType<typeof gitignorePatterns>): void {
  const basename = relative.slice(relative.lastIndexOf('/') + 1);
  const lines = new Lines(text);
  if (basename === '.gitignore') ignores.push(...gitignorePatterns(relative, text));
  if (COMPOSE_FILE.test(basename)) indexCompose(relative, text, lines, index);
  if (MAKEFILE.test(basename)) indexMakefile(relative, text, lines, index);
  if (basename === 'package.json') indexPackageJson(relative, text, index);
  if (DOCS.test(basename)) for (const match of text.matchAll(DOC_CONTAINER)) index.docContainers.add(match[1]!);
  const isDoc = DOCS.test(basename) || basename.startsWith('.env');
  if (isDoc) return;
  index.sources.push(text);
  for (const match of text.matchAll(ENV_NAME)) remember(index.envVars, match[0], relative, lines, match.index);
  for (const match of text.matchAll(ENV_PREFIX)) remember(index.envPrefixes, match[1]!, relative, lines, match.index);
  for (const match of text.matchAll(QUOTED_NAME)) remember(index.quoted, match[1]!, relative, lines, match.index);
  if (basename.endsWith('.py')) indexPython(relative, text, lines, index);
  else if (/\.(?:[cm]?[jt]sx?)$/.test(basename)) indexScript(relative, text, lines, index);
  else if (basename.endsWith('.go')) for (const match of text.matchAll(GO_DEFINITION)) remember(index.functions, match[1]!, relative, lines, match.index);
  if (/\.(?:sh|bash)$/.test(basename) || /^#!.*\b(?:ba|z|k)?sh\b/.test(text.slice(0, 80)))
    for (const match of text.matchAll(SH_DEFINITION)) remember(index.functions, (match[1] ?? match[2])!, relative, lines, match.index);
  if (SCRIPT_FILE.test(basename) || text.startsWith('#!')) addFlags(relative, basename, text, lines, index);
  for (const [command, candidates] of index.programs) {
    if (!candidates.includes(relative) || (index.flags.get(command)?.size ?? 0) > 0) continue;
    // The built file may be an emptied or minified copy: the first of built and source that names flags wins.
    const flags = new Map<string, Location>();
    for (const [flag, at] of scriptFlags(basename, text)) flags.set(flag, { file: relative, line: lines.at(at) });
    if (flags.size === 0) continue;
    index.flags.set(command, flags);
    index.scripts.set(command, [relative]);
  }
}

function addFlags(relative: string, basename: string, text: string, lines: Lines, index: RepoIndex): void {
  if (index.programs.has(basename)) return; // The command of that name is the one package.json installs.
  // A script that hands its arguments on (`exec gradle "$@"`) accepts flags it never names: only bindings check them.
  if (FORWARDS_ARGS.test(text)) index.openFlags.add(basename);
  let flags = index.flags.get(basename);
  if (!flags) index.flags.set(basename, (flags = new Map()));
  for (const [flag, at] of scriptFlags(basename, text)) if (!flags.has(flag)) flags.set(flag, { file: relative, line: lines.at(at) });
  const paths = index.scripts.get(basename);
  if (!paths) index.scripts.set(basename, [relative]);
  else if (!paths.includes(relative)) paths.push(relative);
}

/** The checker's own files: bindings, configuration (and a baseline the caller names) are not the repo's code. */
const OWN_FILES = /(?:^|\/)(?:[^/]+\.drift\.json|\.runbook-drift\.ya?ml)$/;

export async function indexRepo(root: string, options: { exclude?: readonly string[] } = {}): Promise<RepoIndex> {
  const index = emptyRepoIndex(root);
  const excluded = new Set(options.exclude ?? []);
  const { files } = await walk(root, index);
  for (const relative of files) {
    index.files.add(relative);
    const basename = relative.slice(relative.lastIndexOf('/') + 1);
    const list = index.basenames.get(basename);
    if (list) list.push(relative);
    else index.basenames.set(basename, [relative]);
  }
  // package.json first: a command's implementation (`bin`) is read for flags whatever its extension.
  const readable = files.filter((relative) => !BINARY.test(relative) && !OWN_FILES.test(relative) && !excluded.has(relative)).sort((a, b) => Number(b.endsWith('package.json')) - Number(a.endsWith('package.json')));
  const ignores: ReturnType<typeof gitignorePatterns> = [];
  for (let i = 0; i < readable.length; i += CONCURRENCY) {
    const batch = readable.slice(i, i + CONCURRENCY);
    const texts = await Promise.all(batch.map((relative) => readText(path.join(root, relative))));
    batch.forEach((relative, k) => {
      const { text, error } = texts[k]!;
      if (error) index.skipped.push({ path: relative, why: `unreadable (${error})` });
      if (text !== undefined) indexFile(relative, text, index, ignores);
    });
  }
  index.ignored = (relative) => {
    let ignored = false;
    for (const rule of ignores) if (rule.match(relative)) ignored = !rule.negate;
    return ignored;
  };
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
