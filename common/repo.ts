import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'runbook-harness';
let root: string | undefined;

/**
 * The repository's root folder, found by walking up to this package's package.json. Paths are built from it rather
 * than from each module's own location, so they hold both for the TypeScript sources and for the bundled CLI that
 * `bin/runbook.js` runs from `node_modules/.cache/`.
 */
export function repoRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return (root = dir);
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ${PACKAGE_NAME} repository above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export function repoPath(...segments: string[]): string {
  return path.join(repoRoot(), ...segments);
}
