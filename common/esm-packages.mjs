// Plain JavaScript: bin/runbook.js uses it before any TypeScript is built. Types: esm-packages.d.mts.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * An esbuild plugin deciding which packages go into a bundle: those published as ES modules only (the
 * unified/micromark family the Markdown parser is made of, msal-node, hono: hundreds of small files whose resolution
 * and loading cost a process more than its work does). Everything else stays with Node: CommonJS packages (which may
 * look for files beside themselves), native addons, and the TypeScript compiler. `keepExternal` names ES packages
 * to leave out all the same.
 */
export function esmPackagesPlugin(root, keepExternal = []) {
  const keep = new Set(keepExternal);
  const esmOnly = new Map();
  const bundled = (name) => {
    if (!esmOnly.has(name)) {
      let type;
      try {
        type = JSON.parse(readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).type;
      } catch {
        type = undefined; // Node's own modules (`fs`, `crypto`) and anything unresolvable stay external.
      }
      esmOnly.set(name, type === 'module' && !keep.has(name));
    }
    return esmOnly.get(name);
  };
  return {
    name: 'esm-packages',
    setup(build) {
      // Bare specifiers only: relative paths are sources, `#x` a package's own import map.
      build.onResolve({ filter: /^[^./#]/ }, (args) => {
        if (args.path.startsWith('node:')) return { path: args.path, external: true };
        const parts = args.path.split('/');
        const name = args.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
        return bundled(name) ? undefined : { path: args.path, external: true };
      });
    },
  };
}
