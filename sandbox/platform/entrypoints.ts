import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Plugin } from 'esbuild';
import { esmPackagesPlugin } from '../../common/esm-packages.mjs';
import { repoPath } from '../../common/repo.ts';
import { sourceKey } from '../../common/source-key.mjs';

/**
 * The programs the sandbox starts as separate processes: the backend containers' process, the image's `python` (for
 * the one script it performs itself) and the VPS's `docker`. Each runs many times per rotation (every `docker ps` over SSH is one), so they are bundled once per
 * sandbox process into plain ES modules that start without a TypeScript loader: about a third of the start-up time.
 * Packages stay external and resolve from this repository, which is why the bundles live in its node_modules cache.
 */
const entries = {
  backend: repoPath('sandbox', 'platform', 'backend', 'main.ts'),
  python: repoPath('sandbox', 'platform', 'backend', 'python.ts'),
  docker: repoPath('sandbox', 'platform', 'docker', 'cli.ts'),
};

export type Entrypoint = keyof typeof entries;

const outdir = repoPath('node_modules', '.cache', 'runbook-sandbox');

/**
 * msal-node imports jsonwebtoken at its top but signs with it only for a certificate credential, which the backend
 * never has; loading it (and semver, which it runs at load) was a fifth of a backend's start. The bundles get a
 * stand-in that loads the real package on first use.
 */
const lazyJsonwebtoken: Plugin = {
  name: 'lazy-jsonwebtoken',
  setup(build) {
    build.onResolve({ filter: /^jsonwebtoken$/ }, () => ({ path: 'jsonwebtoken', namespace: 'lazy' }));
    build.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: [
        "import { createRequire } from 'node:module';",
        'let real;',
        // Resolved from the bundle's folder (node_modules/.cache/...), which finds this repository's package.
        "const load = () => (real ??= createRequire(import.meta.url)('jsonwebtoken'));",
        'export default new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });',
      ].join('\n'),
      loader: 'js',
      resolveDir: outdir,
    }));
  },
};
let built: Promise<Record<Entrypoint, string>> | undefined;

/** The bundles built for `key` before, if they are all still there. */
function builtBefore(manifest: string): Record<Entrypoint, string> | undefined {
  try {
    const paths = JSON.parse(readFileSync(manifest, 'utf8')) as Record<Entrypoint, string>;
    return (Object.keys(entries) as Entrypoint[]).every((name) => typeof paths[name] === 'string' && existsSync(paths[name])) ? paths : undefined;
  } catch {
    return undefined;
  }
}

async function bundle(): Promise<Record<Entrypoint, string>> {
  // What the bundles are made of: the sources they can import (sandbox/ and common/) and the installed packages. An
  // unchanged key means the bundles on disk are current, and a sandbox starts without running esbuild at all.
  const manifest = join(outdir, `manifest-${sourceKey(repoPath(), ['sandbox', 'common'])}.json`);
  const known = builtBefore(manifest);
  if (known) return known;
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: entries,
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // ES-module-only packages (msal-node, hono) are bundled in: a container's start is mostly module loading.
    plugins: [lazyJsonwebtoken, esmPackagesPlugin(repoPath())],
    outExtension: { '.js': '.mjs' },
    write: false,
    logLevel: 'silent',
  });
  mkdirSync(outdir, { recursive: true });
  const paths: Partial<Record<Entrypoint, string>> = {};
  for (const file of result.outputFiles) {
    const name = basename(file.path, '.mjs') as Entrypoint;
    // Named by content: concurrent sandboxes share a bundle, and a changed source never runs a stale one.
    const target = join(outdir, `${name}-${createHash('sha256').update(file.contents).digest('hex').slice(0, 16)}.mjs`);
    if (!existsSync(target)) {
      const temp = `${target}.${process.pid}.tmp`;
      writeFileSync(temp, file.contents);
      renameSync(temp, target);
    }
    paths[name] = target;
  }
  for (const name of Object.keys(entries) as Entrypoint[]) if (!paths[name]) throw new Error(`sandbox entrypoint ${name} was not bundled`);
  // Written aside and renamed, as the bundles are: a concurrent start never reads half a manifest.
  const temp = `${manifest}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(paths));
  renameSync(temp, manifest);
  return paths as Record<Entrypoint, string>;
}

/** The bundled program `name`, built on first use in this process. */
export async function entrypoint(name: Entrypoint): Promise<string> {
  built ??= bundle().catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return (await built)[name];
}
