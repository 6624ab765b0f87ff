import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * Anchored bindings: what each claim of a document resolved to in the repository (file, line, symbol), kept in a
 * small committed file beside the document. A later check tells "this was true and no longer is" (a rename, a
 * removal: high confidence) apart from "this new claim binds to nothing".
 */
export interface Binding {
  /** `bindingKey` of the mention: kind and text. */
  claim: string;
  file: string;
  line?: number;
  symbol?: string;
}

export interface BindingsFile {
  version: 1;
  /** The repository the claims bound to, relative to the bindings file (informational). */
  repo?: string;
  claims: Binding[];
}

/** `docs/cli.md` -> `docs/cli.drift.json`; `runbook.md` -> `runbook.drift.json`. */
export function bindingsPath(document: string): string {
  const parsed = path.parse(document);
  return path.join(parsed.dir, `${parsed.name}.drift.json`);
}

export class BindingsError extends Error {}

/** The bindings beside a document, or none. A file that is not ours is an error with its path, never a crash. */
export async function readBindings(document: string): Promise<Binding[] | undefined> {
  const file = bindingsPath(document);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new BindingsError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<BindingsFile>;
    if (parsed.version !== 1 || !Array.isArray(parsed.claims)) throw new Error('expected {"version": 1, "claims": [...]}');
    return parsed.claims.filter((claim): claim is Binding => typeof claim?.claim === 'string' && typeof claim.file === 'string');
  } catch (error) {
    throw new BindingsError(`${file}: ${(error as Error).message}`);
  }
}

/** Sorted and stable, so a refresh that changes nothing changes no byte and a diff shows what moved. */
export function serializeBindings(claims: Iterable<Binding>, repo?: string): string {
  const sorted = [...claims].sort((a, b) => a.claim.localeCompare(b.claim));
  const body: BindingsFile = { version: 1, ...(repo !== undefined ? { repo } : {}), claims: sorted };
  return `${JSON.stringify(body, null, 2)}\n`;
}

export async function writeBindings(document: string, claims: Iterable<Binding>, repo?: string): Promise<string> {
  const file = bindingsPath(document);
  const text = serializeBindings(claims, repo);
  const previous = await readFile(file, 'utf8').catch(() => undefined);
  if (previous === text) return file;
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, text);
  await rename(temp, file);
  return file;
}

const run = promisify(execFile);
const renameCache = new Map<string, Promise<Map<string, string>>>();

/**
 * Renames git knows of in a repo (`old -> new`), committed (`git log -M --name-status`) and staged or in the work
 * tree (`git status -M`): the hint for a bound path that moved. Empty when the repo is not a git work tree.
 */
export function gitRenames(root: string): Promise<Map<string, string>> {
  let cached = renameCache.get(root);
  if (!cached) renameCache.set(root, (cached = readRenames(root)));
  return cached;
}

async function readRenames(root: string): Promise<Map<string, string>> {
  const renames = new Map<string, string>();
  if (!existsSync(path.join(root, '.git'))) return renames;
  const options = { cwd: root, timeout: 5_000, maxBuffer: 16 * 1024 * 1024 };
  try {
    const log = await run('git', ['log', '-M', '--diff-filter=R', '--name-status', '--format=', '-n', '200', '--', '.'], options);
    // Newest first: keep the newest rename of each path, and follow chains (a -> b, b -> c) to where it is now.
    for (const line of log.stdout.split('\n').reverse()) {
      const match = /^R\d*\t(.+)\t(.+)$/.exec(line);
      if (match) renames.set(match[1]!, match[2]!);
    }
    const status = await run('git', ['status', '--porcelain=v1', '-M', '--untracked-files=no'], options);
    for (const line of status.stdout.split('\n')) {
      const match = /^R. (.+) -> (.+)$/.exec(line);
      if (match) renames.set(match[1]!, match[2]!);
    }
  } catch {
    // git missing or not a work tree: no history to read renames from; the edit-distance hint still applies.
  }
  for (const [from, to] of renames) {
    let end = to;
    for (let hops = 0; renames.has(end) && hops < 20; hops++) end = renames.get(end)!;
    renames.set(from, end);
  }
  return renames;
}
