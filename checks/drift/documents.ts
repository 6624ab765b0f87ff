import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { parse as parseYaml } from 'yaml';

/**
 * Which documents one `runbook check` run reads (`check 'docs/**\/*.md'`: the shell need not expand the glob), and the
 * repository-level configuration of what is not checked. Symlinked folders are not followed and unreadable entries
 * are skipped with a note: a docs tree is not trusted to be a tree.
 */

const SKIP_DIRS = new Set(['node_modules', '.git', '.hg', '.svn', '.venv', 'venv', '__pycache__']);
const GLOB = /[*?[\]{}]/;

export interface FoundDocuments {
  files: string[];
  /** What could not be read or followed, with why: printed as notes, never fatal. */
  skipped: { path: string; why: string }[];
}

/** Expands each argument: a file as given, a glob against the files under its static prefix (relative to `cwd`). */
export async function findDocuments(patterns: readonly string[], cwd: string): Promise<FoundDocuments> {
  const files: string[] = [];
  const skipped: FoundDocuments['skipped'] = [];
  for (const pattern of patterns) {
    if (!GLOB.test(pattern)) {
      files.push(pattern);
      continue;
    }
    const { base } = picomatch.scan(pattern);
    const match = picomatch(pattern, { dot: false });
    const pending = [base || '.'];
    const found: string[] = [];
    while (pending.length > 0) {
      const dir = pending.pop()!;
      let entries: Dirent[];
      try {
        entries = await readdir(path.resolve(cwd, dir), { withFileTypes: true });
      } catch (error) {
        skipped.push({ path: dir, why: `unreadable (${(error as NodeJS.ErrnoException).code ?? String(error)})` });
        continue;
      }
      for (const entry of entries) {
        const relative = dir === '.' ? entry.name : `${dir}/${entry.name}`;
        if (entry.isSymbolicLink()) {
          skipped.push({ path: relative, why: 'symlink, not followed' });
        } else if (entry.isDirectory()) {
          if (!SKIP_DIRS.has(entry.name)) pending.push(relative);
        } else if (match(relative)) {
          if (entry.isFile()) found.push(relative);
          else skipped.push({ path: relative, why: 'not a regular file' });
        }
      }
    }
    files.push(...found.sort());
  }
  return { files: [...new Set(files)], skipped };
}

/** An entry of `ignore:` in the configuration: documents not checked, or a mention never checked; each with why. */
export type IgnoreEntry = { documents: string; reason: string } | { mention: string; reason: string } | { path: string; reason: string };

export interface DriftConfig {
  file?: string;
  ignore: IgnoreEntry[];
}

export const CONFIG_NAME = '.runbook-drift.yml';

export class ConfigError extends Error {}

/**
 * `.runbook-drift.yml` (in the current folder, else at the repo root; or `--config FILE`):
 * ```yaml
 * ignore:
 *   - documents: "docs/legacy/**"   # not checked at all
 *     reason: archived pages
 *   - mention: CADDY_DATA_DIR        # never a claim, in any document
 *     reason: the reader's own variable
 *   - path: "docker-data/**"         # paths on the deployed host
 *     reason: created by the container on first start
 * ```
 * Like a `drift-ignore` comment, an entry without a reason is refused: silencing a check always leaves a why.
 */
export async function readConfig(candidates: readonly string[]): Promise<DriftConfig> {
  for (const file of candidates) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new ConfigError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    let data: unknown;
    try {
      data = parseYaml(text);
    } catch (error) {
      throw new ConfigError(`${file}: ${(error as Error).message.split('\n')[0]}`);
    }
    const list = data && typeof data === 'object' ? (data as { ignore?: unknown }).ignore : undefined;
    if (list !== undefined && !Array.isArray(list)) throw new ConfigError(`${file}: expected \`ignore:\` to be a list`);
    const ignore: IgnoreEntry[] = [];
    (list ?? []).forEach((entry: unknown, k: number) => {
      const item = (entry ?? {}) as Record<string, unknown>;
      const reason = typeof item['reason'] === 'string' ? item['reason'].trim() : '';
      const key = (['documents', 'mention', 'path'] as const).find((name) => typeof item[name] === 'string');
      if (!key) throw new ConfigError(`${file}: ignore[${k}]: expected one of \`documents\`, \`mention\`, \`path\``);
      if (!reason) throw new ConfigError(`${file}: ignore[${k}]: expected a \`reason\` for ${key} \`${String(item[key])}\``);
      ignore.push({ [key]: item[key] as string, reason } as IgnoreEntry);
    });
    return { file, ignore };
  }
  return { ignore: [] };
}

/** Whether the configuration leaves a document out (`documents:` globs, matched on its repo- or cwd-relative path). */
export function documentIgnored(config: DriftConfig, relative: string): boolean {
  return config.ignore.some((entry) => 'documents' in entry && picomatch(entry.documents, { dot: true })(relative));
}
