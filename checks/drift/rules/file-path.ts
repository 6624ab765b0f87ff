import path from 'node:path';
import { gitRenames } from '../bindings.ts';
import { expectedHint } from '../../../common/closest.ts';
import type { RepoIndex } from '../repo-index.ts';
import { mentionsOf, reportMissing, type DriftRule, type MentionOf } from '../types.ts';

/** For `~/platform/scripts/x.py` (the checkout on a host): the tail that starts at one of the repo's top-level names. */
export function repoTail(text: string, repo: RepoIndex): string | undefined {
  const segments = text.split('/');
  for (let i = 1; i < segments.length - 1; i++) if (repo.topLevel.has(segments[i]!)) return segments.slice(i).join('/');
  return undefined;
}

const exists = (repo: RepoIndex, relative: string) => {
  const bare = relative.replace(/\/$/, '');
  return bare === '' || repo.files.has(bare) || repo.dirs.has(bare);
};

interface Target {
  /** Repo-relative candidates, the first being what a finding names. */
  candidates: string[];
  /** The mention claims it by its shape: a path that starts with one of the repo's own top-level names. */
  shaped: boolean;
  /** Columns between the mention's start and the repo-relative part (`~/platform/` of a host path). */
  shift: number;
}

/** `docs/a/b.md` -> `docs/a`, `docs`, `` (the repo root last). */
function ancestors(documentPath: string): string[] {
  const folders: string[] = [];
  for (let dir = path.posix.dirname(documentPath); dir !== '.' && dir !== ''; dir = path.posix.dirname(dir)) folders.push(dir);
  return [...folders, ''];
}

/** Where a path mention points in the repo, or nothing when it points outside (a host path, `../` out of the root). */
function targetOf(mention: MentionOf<'path'>, repo: RepoIndex, documentPath: string | undefined): Target | undefined {
  if (mention.context === 'link') {
    // A link resolves from the document's folder; a document outside the repo links to its own repository.
    if (documentPath === undefined) return undefined;
    // `/setup` is from the root of the repo or, on a docs site, of the folder the site is built from.
    const bases = mention.text.startsWith('/') ? ancestors(documentPath) : [path.posix.dirname(documentPath)];
    const candidates: string[] = [];
    for (const base of bases) {
      const normal = path.posix.normalize(path.posix.join(base, mention.text.replace(/^\//, ''))).replace(/^\.\/?/, '');
      if (normal.startsWith('..') || normal === '.git' || normal.startsWith('.git/')) continue;
      // A docs site links `./setup` for `setup.md` (and `guide/` for its index page).
      const bare = normal.replace(/\/$/, '').replace(/\.html$/, '');
      candidates.push(normal, `${bare}.md`, `${bare}/index.md`, `${bare}/README.md`, `${bare}.mdx`);
    }
    return candidates.length > 0 ? { candidates, shaped: true, shift: 0 } : undefined;
  }
  if (mention.claim === 'bare') return { candidates: [], shaped: false, shift: 0 };
  if (mention.claim === 'absolute') {
    const tail = repoTail(mention.text, repo);
    return tail === undefined ? undefined : { candidates: [tail], shaped: true, shift: mention.text.length - tail.length };
  }
  const relative = mention.text.replace(/^(?:\.\/)+/, '');
  if (relative === '.git' || relative.startsWith('.git/')) return undefined; // git's own files, never in a tree
  const candidates = mention.cwd ? [path.posix.join(mention.cwd, relative), relative] : [relative];
  // A command in a document usually runs from the repo root; a relative path may also be from the document's folder.
  if (documentPath !== undefined && path.posix.dirname(documentPath) !== '.') candidates.push(path.posix.join(path.posix.dirname(documentPath), relative));
  const first = relative.split('/')[0]!;
  // `with_ca/ecdsa/cert.pem` in `test/files/ssl/example.test/README.md`, where `with_ca/` sits beside the document:
  // a path that starts with a name of the document's own folder is that folder's, as one starting with a top-level
  // name is the repo's.
  const besideDocument = documentPath !== undefined && path.posix.dirname(documentPath) !== '.' && exists(repo, path.posix.join(path.posix.dirname(documentPath), first));
  return { candidates, shaped: relative.includes('/') && (repo.topLevel.has(first) || besideDocument), shift: mention.text.length - relative.length };
}

/**
 * A claim: a link target (from the document's folder), a path a command runs (`./install.sh`), a path that starts
 * with one of the repo's top-level names (`scripts/x.py`, `~/platform/scripts/x.py`) or with a name in the
 * document's own folder (`with_ca/cert.pem` beside `example.test/README.md`); or one bound before. A bare
 * name (`script.mjs`) or a path elsewhere (`docker-data/dms/...`, `/var/lib/...`) is an example or a host path, and a
 * path `.gitignore` excludes is generated: neither is checked.
 */
export const filePath: DriftRule = {
  id: 'drift-path',
  description: 'Every file path the runbook claims exists in the platform repo',
  async check(context) {
    const { repo } = context;
    for (const mention of mentionsOf(context, 'path')) {
      if (mention.claim === 'bare') {
        const found = repo.basenames.get(mention.text);
        if (found) {
          context.bind(mention, { file: found[0]!, line: 0 });
          continue;
        }
        if (!context.claimed(mention)) continue;
        const previous = context.previous.get(`path:${mention.text}`);
        const renamedTo = previous ? (await gitRenames(repo.root)).get(previous.file) : undefined;
        const hint = renamedTo ? { text: `expected \`${renamedTo}\``, expected: [renamedTo] } : expectedHint(mention.text, repo.basenames.keys(), 'expected a file the platform repo has');
        await reportMissing(context, mention, `Unexpected file \`${mention.text}\` that is not in the platform repo, ${hint.text}`, { actual: mention.text, expected: hint.expected, ...(renamedTo ? { renamedTo } : {}) });
        continue;
      }
      const target = targetOf(mention, repo, context.documentPath);
      if (!target) continue;
      const hit = target.candidates.find((candidate) => exists(repo, candidate));
      // On a host the checkout may be mounted from a subfolder (`/app` is `services/backend` in the image).
      const mounted =
        mention.claim === 'absolute' && !hit
          ? repo.basenames.get(target.candidates[0]!.replace(/\/$/, '').split('/').pop()!)?.find((file) => file.endsWith(`/${target.candidates[0]!.replace(/\/$/, '')}`))
          : undefined;
      if (hit !== undefined || mounted) {
        context.bind(mention, { file: (hit ?? mounted)!.replace(/\/$/, ''), line: 0 });
        continue;
      }
      const relative = target.candidates[0]!;
      if (repo.ignored(relative.replace(/\/$/, ''))) continue;
      const previous = context.previous.get(`path:${mention.text}`);
      // `./script.mjs` with a name the repo has nowhere is the reader's own file (an example), unless it was bound.
      if (!previous && mention.context === 'command' && !mention.text.replace(/^(?:\.\/)+/, '').includes('/') && !repo.basenames.has(path.posix.basename(relative))) continue;
      if (!previous && !target.shaped && mention.context === undefined) continue;
      if (!previous && !context.claimed(mention) && !target.shaped) continue;
      const bare = relative.replace(/\/$/, '');
      const renamedTo = (await gitRenames(repo.root)).get(previous?.file ?? bare);
      const moved = repo.basenames.get(bare.split('/').pop()!);
      const hint = renamedTo
        ? { text: `expected \`${renamedTo}\``, expected: [renamedTo] }
        : moved?.length
          ? { text: `expected \`${moved[0]}\``, expected: moved }
          : expectedHint(bare, repo.files, 'expected a path the platform repo has');
      const span = { start: { ...mention.span.start, column: mention.span.start.column + target.shift }, end: mention.span.end };
      await reportMissing(context, { ...mention, span }, `Unexpected path \`${relative}\` that is not in the platform repo, ${hint.text}`, { actual: relative, expected: hint.expected, ...(renamedTo ? { renamedTo } : {}) });
    }
  },
};
