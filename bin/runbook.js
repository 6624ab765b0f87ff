#!/usr/bin/env node
// The CLI is TypeScript. It runs as one bundled ES module, built with esbuild on first use and whenever a source file
// changes (cached in node_modules/.cache/runbook-cli/), so a run does not carry a TypeScript loader: the loader's
// thread and transpiling at start would slow every run and every command a runbook starts. If the bundle cannot be
// built, the sources run through tsx instead.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { esmPackagesPlugin } from '../common/esm-packages.mjs';
import { sourceKey } from '../common/source-key.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['cli', 'common', 'runner', 'checks', 'sandbox'];

// `runbook plan | head` closes the pipe early: that is the reader's choice, not an error worth a stack trace.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

async function bundled() {
  const cache = path.join(root, 'node_modules', '.cache', 'runbook-cli');
  // This file holds the build options: a change to them is a new bundle too.
  const outdir = path.join(cache, `cli-${sourceKey(root, SOURCE_DIRS, [fileURLToPath(import.meta.url)])}`);
  const entry = path.join(outdir, 'cli.mjs');
  if (existsSync(entry)) return entry;
  const { build } = await import('esbuild');
  // Built aside and renamed into place: concurrent first runs never import half a bundle.
  const temp = `${outdir}.${process.pid}.tmp`;
  await build({
    // The workers are entries of their own: runner/parse/bounded.ts starts `parse-worker.mjs` beside the chunks,
    // runner/execute/runtime.ts the thread blocks run in, `block-worker.mjs`.
    entryPoints: {
      cli: path.join(root, 'cli', 'main.ts'),
      'parse-worker': path.join(root, 'runner', 'parse', 'worker.ts'),
      'block-worker': path.join(root, 'runner', 'execute', 'worker.ts'),
      // Imported below, before the CLI, to start a run's block thread; the CLI shares its chunk (and the thread).
      'block-runtime': path.join(root, 'runner', 'execute', 'runtime.ts'),
    },
    bundle: true,
    // Each `import()` of the sources becomes a chunk of its own, so a command loads only the packages it uses:
    // `plan` never loads the sandbox's SSH, TLS and HTTP servers, a run on production never loads the sandbox.
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // ES-module-only packages are bundled in (common/esm-packages.mjs); zx stays out: it is two large files already.
    plugins: [esmPackagesPlugin(root, ['zx'])],
    tsconfig: path.join(root, 'tsconfig.json'),
    outdir: temp,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    logLevel: 'silent',
  });
  // jest's expect, which every run's block thread requires (runner/execute/libraries.ts), as one file beside the
  // chunks: from the package, Node resolves, reads and compiles some 40 small CommonJS files (jest-diff,
  // pretty-format, chalk...), about 60 ms of the thread's start here; the one file loads in under 40. It stays
  // CommonJS, built from the file `require('expect')` names (not its ES wrapper), so its `require` of Node's own
  // modules, `__dirname` (jest-message-util) and its exports are Node's as before; and it stays under node_modules/,
  // where jest-message-util's stack filter takes its frames for a library's. Whitespace only is minified: the parse is
  // what the bytes cost, and the code stays the same code.
  // zx stays a package: bundling its core (five files) gains ~4 ms, and the rest of zx, loaded later on demand,
  // requires that same core: `$`'s defaults and the ProcessOutput class must stay one copy.
  await build({
    entryPoints: { expect: createRequire(import.meta.url).resolve('expect') },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minifyWhitespace: true,
    outdir: temp,
    outExtension: { '.js': '.cjs' },
    logLevel: 'silent',
  });
  try {
    renameSync(temp, outdir);
  } catch (error) {
    // Another first run got there first: its bundle is the same one.
    rmSync(temp, { recursive: true, force: true });
    if (!existsSync(entry)) throw error;
  }
  return entry;
}

/** The commands that run a document: their block thread starts before the CLI loads (runner/execute/runtime.ts). */
const RUNS = new Set(['run', 'resume']);

let cli;
try {
  const entry = await bundled();
  if (RUNS.has(process.argv[2])) {
    // A run's block thread (zx, expect, the command helpers) loads beside the CLI's own loading, on the other core,
    // instead of after it: the process's run adopts it. Only from the bundle: the sources start theirs as the run does.
    const runtime = await import(pathToFileURL(path.join(path.dirname(entry), 'block-runtime.mjs')).href);
    runtime.startEarlyBlockThread();
  }
  cli = await import(pathToFileURL(entry).href);
} catch (error) {
  if (process.env.RUNBOOK_DEBUG) process.stderr.write(`runbook: bundle unavailable, running the sources: ${error}\n`);
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../cli/main.ts');
}
const code = await cli.main(process.argv.slice(2));
if (RUNS.has(process.argv[2])) {
  // A run is over once its record is: the process leaves as soon as what it printed is out, instead of waiting for
  // its block thread's teardown (tens of milliseconds); the command hosts see it leave and take their commands down.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
} else {
  process.exitCode = code;
}
