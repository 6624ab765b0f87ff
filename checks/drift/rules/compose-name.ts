import { expectedHint } from '../../../common/closest.ts';
import type { Location, RepoIndex } from '../repo-index.ts';
import { mentionsOf, reportMissing, type DriftRule } from '../types.ts';

function resolveName(repo: RepoIndex, name: string, container: boolean): Location | undefined {
  const direct = repo.compose.services.get(name) ?? repo.compose.containers.get(name);
  if (direct) return direct;
  // Compose names containers `<project>-<service>-1`; a container can also be made by the repo's own code or
  // config (a JSON list of containers, a `docker run --name`), where its name is a quoted string.
  if (!container) return undefined;
  const replica = /^(.+?)[-_](.+)[-_]\d+$/.exec(name);
  if (replica) {
    const service = repo.compose.services.get(replica[2]!);
    if (service) return service;
  }
  return repo.quoted.get(name);
}

/**
 * A claim: a service a `docker compose` verb names (`up`, `logs`, `exec SVC`: not the command after it), a container
 * of `docker exec|logs|restart|cp|ps --filter name=`, a `related-services` entry; or the same name claimed elsewhere
 * in the document, or one bound before. A kebab-case word on its own (`paperless-ngx`) is not one, nor a container
 * that a command in the repo's docs makes (`docker run --name dms`): that name is the reader's choice.
 */
export const composeName: DriftRule = {
  id: 'drift-compose',
  description: 'Every compose service or container name the runbook claims is one the platform repo defines',
  async check(context) {
    const { repo } = context;
    const known = new Set([...repo.compose.services.keys(), ...repo.compose.containers.keys()]);
    const mentions = [...mentionsOf(context, 'compose'), ...mentionsOf(context, 'kebab')];
    for (const mention of mentions) {
      const name = mention.kind === 'compose' ? mention.name : mention.text;
      const container = mention.kind === 'compose' && mention.role === 'container';
      // Only a name a docker command gives is looked for among quoted strings: a bare word found quoted proves nothing.
      const at = resolveName(repo, name, container && mention.context !== undefined);
      if (at) {
        context.bind(mention, at, name);
        continue;
      }
      const claim = context.claimed(mention);
      // With no compose file at all, a container is made some other way: nothing here to check it against. A
      // container the docs make with `docker run --name` is the reader's (docker-mailserver's `dms`).
      if (!claim || (claim === true && (known.size === 0 || repo.docContainers.has(name)))) continue;
      const hint = expectedHint(name, known, `expected one of: ${[...known].sort().join(', ')}`);
      await reportMissing(context, mention, `Unexpected compose service or container \`${name}\`, ${hint.text}`, { actual: name, expected: hint.expected ?? [...known] });
    }
  },
};
