// Plain JavaScript: bin/runbook.js uses it before any TypeScript is built. Types: source-key.d.mts.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const SOURCE = /\.(ts|tsx|mts|mjs|js)$/;

/**
 * The key of a bundle built from the sources under `dirs` of the repository at `root`: it changes whenever one of
 * them does (by path, size and modification time: no file is read, so checking it costs a directory walk), when the
 * installed packages do (the lock file), and when any of `alsoFiles` does (the build's own options). Test files are
 * never part of a bundle.
 */
export function sourceKey(root, dirs, alsoFiles = []) {
  const hash = createHash('sha256');
  for (const dir of dirs) {
    for (const entry of readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !SOURCE.test(entry.name) || entry.name.includes('.test.')) continue;
      const file = path.join(entry.parentPath, entry.name);
      const { size, mtimeMs } = statSync(file);
      hash.update(`${file}\0${size}\0${mtimeMs}\n`);
    }
  }
  for (const file of [path.join(root, 'package-lock.json'), ...alsoFiles]) hash.update(`${statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? ''}\n`);
  return hash.digest('hex').slice(0, 16);
}
