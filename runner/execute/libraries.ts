import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * The libraries blocks use, as the block thread loads them. zx and expect are CommonJS packages and are loaded with
 * `require`: an ES `import` of a CommonJS file first scans its whole source for export names (cjs-module-lexer), and
 * zx's ES entry loads all of zx. Up front the thread loads zx's core only (`$`, `quote`, `which`, ProcessOutput);
 * the rest of zx (fs-extra, globby, YAML, `sleep`, `retry`: a 700 kB bundle, about 100 ms of a thread's start) only
 * when the document names one of those (`ZX_LIBRARY_GLOBALS` in compile.ts; run.ts passes `zx` among the seed's
 * modules).
 */
const require = createRequire(import.meta.url);

/**
 * expect as one file when running from the CLI's bundle, which bin/runbook.js builds beside its chunks (about 20 ms
 * less of the thread's start than its 40 files); the package itself from the sources, or from a bundle without it
 * (the tests' worker bundle, runtime.ts).
 */
function expectPath(): string {
  const bundled = new URL('./expect.cjs', import.meta.url);
  return !import.meta.url.endsWith('.ts') && existsSync(bundled) ? fileURLToPath(bundled) : 'expect';
}

export const zxCore = require('zx/core') as typeof import('zx/core');
export const { expect } = require(expectPath()) as typeof import('expect');

export function loadZxLibrary(): typeof import('zx') {
  return require('zx') as typeof import('zx');
}
