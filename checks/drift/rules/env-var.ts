import { closest, expectedHint } from '../../../common/closest.ts';
import { imageName, type Location, type RepoIndex } from '../repo-index.ts';
import { bindingKey, mentionsOf, reportMissing, type DriftRule } from '../types.ts';
import { wellKnownEnv } from '../well-known-env.ts';

/** Where the code names the variable: the name itself, a name it is the tail of, or a prefix the code builds it from. */
function resolveEnv(repo: RepoIndex, name: string, prefix: boolean, exactOnly: boolean): { at: Location; symbol: string } | undefined {
  if (prefix) {
    for (const [known, at] of repo.envVars) if (known.startsWith(`${name}_`)) return { at, symbol: known };
    return undefined;
  }
  const exact = repo.envVars.get(name);
  if (exact) return { at: exact, symbol: name };
  // Bound to the name itself before: a name it now only resembles (a tail, a prefix) is not the same claim.
  if (exactOnly) return undefined;
  // `not.toContain('CLIENT_SECRET')`: the tail of a real name, used to match it, not a name of its own.
  for (const [known, at] of repo.envVars) if (known.endsWith(`_${name}`)) return { at, symbol: known };
  // `resolveDefaults(..., 'ZX_', process.env)`: the code reads every `ZX_` + option name.
  for (const [known, at] of repo.envPrefixes) if (name.startsWith(known) && name.length > known.length) return { at, symbol: known };
  return undefined;
}

/**
 * A claim: `$X` / `${X}` in a command, `process.env.X`, `os.environ[...]`, `getenv`, `X=1 cmd`, `^X=` (an env-file
 * key), "the `X` environment variable", a heading that is the name in a section about variables, the name alone in
 * a settings table's cell (`| Variable |`), a container's setting (`-e X=1`, `--env X=1` alone, a compose
 * `environment:` key) when the container runs one of the repo's images (or is one of its compose services); or the same name claimed
 * elsewhere in the document. Variables the document sets itself, and the OS's and common tools'
 * (`XDG_RUNTIME_DIR`), are not claims.
 */
export const envVar: DriftRule = {
  id: 'drift-env',
  description: 'Every environment variable the runbook claims is named by the platform code (docs and .env examples do not count)',
  async check(context) {
    const { repo } = context;
    let names: string[] | undefined;
    for (const mention of mentionsOf(context, 'env')) {
      const previous = context.previous.get(bindingKey(mention));
      const resolved = resolveEnv(repo, mention.name, mention.prefix, previous?.symbol === mention.name);
      if (resolved) {
        context.bind(mention, resolved.at, resolved.symbol);
        continue;
      }
      const claim = context.claimed(mention);
      if (!claim || (claim === true && wellKnownEnv(mention.name))) continue;
      // A setting of a container whose image the repo's compose files do not run (`-e MYSQL_USER=x mysql:8`) is
      // that image's business.
      if (claim === true && mention.image !== undefined && !repo.compose.images.has(imageName(mention.image))) continue;
      if (claim === true && mention.service !== undefined && !repo.compose.services.has(mention.service)) continue;
      names ??= [...repo.envVars.keys()];
      // A renamed variable usually keeps its last word (`..._SECRET`): prefer those over a near-but-different name.
      const tail = mention.name.slice(mention.name.lastIndexOf('_'));
      const renamed = mention.prefix ? undefined : closest(mention.name, names.filter((name) => name.endsWith(tail)), Math.ceil(mention.name.length / 2));
      const hint = renamed ? { text: `expected \`${renamed}\``, expected: [renamed] } : expectedHint(mention.name, names, 'expected a variable the platform code reads');
      const what = mention.prefix ? `env vars \`${mention.text}\`` : `env var \`${mention.name}\``;
      await reportMissing(context, mention, `Unexpected ${what} that no platform code names, ${hint.text}`, { actual: mention.text, expected: hint.expected });
    }
  },
};
