import { diagnostic, RunbookInputError } from '../common/diagnostics.ts';
import type { Runbook } from './model.ts';

/** A target as blocks see it: the profile's settings with sandbox facts filled in. */
export interface ResolvedTarget {
  readonly name: string;
  readonly sandbox: boolean;
  readonly settings: Readonly<Record<string, unknown>>;
  /** A required setting as a string; a missing one is an error naming the key and the target. */
  get(key: string): string;
  /** An optional setting. */
  maybe(key: string): string | undefined;
}

const FACT = /\{\{\s*sandbox\.([\w-]+)\s*\}\}/g;

/** `{{sandbox.KEY}}` in a sandbox profile's string settings is replaced by the running sandbox's fact KEY. */
function interpolate(value: unknown, facts: Record<string, string>, missing: Set<string>): unknown {
  if (typeof value === 'string') {
    return value.replace(FACT, (_, key: string) => {
      if (!(key in facts)) missing.add(key);
      return facts[key] ?? '';
    });
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, facts, missing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item, facts, missing)]));
  }
  return value;
}

export function createTarget(name: string, sandbox: boolean, settings: Record<string, unknown>): ResolvedTarget {
  const maybe = (key: string) => {
    const value = settings[key];
    return value === undefined || value === null ? undefined : String(value);
  };
  return {
    name,
    sandbox,
    settings,
    maybe,
    get(key) {
      const value = maybe(key);
      if (value === undefined || value === '') throw new Error(`target ${name} has no setting \`${key}\``);
      return value;
    },
  };
}

/** The target name a run uses: the flag, else the runbook's `default-target`, else none (a plain local run). */
export function chooseTarget(runbook: Runbook, requested?: string): string | undefined {
  const name = requested ?? runbook.frontMatter.defaultTarget;
  if (name === undefined) return undefined;
  if (!(name in runbook.frontMatter.targets)) {
    const known = Object.keys(runbook.frontMatter.targets);
    throw new RunbookInputError([
      diagnostic(`Unexpected target \`${name}\`, expected ${known.length ? `one of: ${known.join(', ')}` : 'no --target (the runbook declares none)'}`, {
        file: runbook.file,
        place: runbook.frontMatter.keySpans['targets'],
        ruleId: 'unknown-target',
      }),
    ]);
  }
  return name;
}

export function resolveTarget(runbook: Runbook, name: string | undefined, facts: Record<string, string> = {}): ResolvedTarget {
  if (name === undefined) return createTarget('local', false, {});
  const profile = runbook.frontMatter.targets[name]!;
  const missing = new Set<string>();
  const settings = interpolate(profile.settings, facts, missing) as Record<string, unknown>;
  if (missing.size > 0) {
    throw new RunbookInputError([
      diagnostic(`Unexpected sandbox fact${missing.size > 1 ? 's' : ''} ${[...missing].map((key) => `\`${key}\``).join(', ')} in target \`${name}\`, expected one of: ${Object.keys(facts).join(', ')}`, {
        file: runbook.file,
        place: profile.span,
        ruleId: 'unknown-fact',
      }),
    ]);
  }
  return createTarget(name, profile.sandbox, settings);
}
