import { expectedHint } from '../../../common/closest.ts';
import type { RepoIndex } from '../repo-index.ts';
import { mentionsOf, type DriftRule } from '../types.ts';

/** For `~/platform/scripts/x.py` (the checkout on a host): the tail that starts at one of the repo's top-level names. */
export function repoTail(text: string, repo: RepoIndex): string | undefined {
  const segments = text.split('/');
  for (let i = 1; i < segments.length - 1; i++) if (repo.topLevel.has(segments[i]!)) return segments.slice(i).join('/');
  return undefined;
}

export const filePath: DriftRule = {
  id: 'drift-path',
  description: 'Every file path the runbook mentions exists in the platform repo',
  check(context) {
    const { repo, report } = context;
    for (const mention of mentionsOf(context, 'path')) {
      if (mention.claim === 'bare') {
        if (repo.basenames.has(mention.text)) continue;
        const hint = expectedHint(mention.text, repo.basenames.keys(), 'expected a file the platform repo has');
        report(`Unexpected file \`${mention.text}\` that is not in the platform repo, ${hint.text}`, mention.span, { actual: mention.text, expected: hint.expected });
        continue;
      }
      const relative = mention.claim === 'absolute' ? repoTail(mention.text, repo) : mention.text.replace(/^(?:\.\/)+/, '');
      if (relative === undefined) continue; // A host path (/tmp, ~/Documents) says nothing about the repo.
      const bare = relative.replace(/\/$/, '');
      if (repo.files.has(bare) || repo.dirs.has(bare)) continue;
      // On a host the checkout may be mounted from a subfolder (`/app` is `services/backend` in the image).
      if (mention.claim === 'absolute' && repo.basenames.get(bare.split('/').pop()!)?.some((file) => file.endsWith(`/${bare}`))) continue;
      const shift = mention.text.length - relative.length;
      const span = { start: { ...mention.span.start, column: mention.span.start.column + shift }, end: mention.span.end };
      const basename = bare.split('/').pop()!;
      const moved = repo.basenames.get(basename);
      const hint = moved?.length ? { text: `expected \`${moved[0]}\``, expected: moved } : expectedHint(bare, repo.files, 'expected a path the platform repo has');
      report(`Unexpected path \`${relative}\` that is not in the platform repo, ${hint.text}`, span, { actual: relative, expected: hint.expected });
    }
  },
};
