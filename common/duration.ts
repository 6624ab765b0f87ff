/**
 * The one duration grammar, for block attributes (`timeout=2m`), front matter (`review-every: 90d`), the sandbox
 * clock (`clock advance 181d`) and the docker stand-in's `--since 1h30m`: one or more `<number><unit>` terms, units
 * `ms`, `s`, `m`, `h`, `d`, `w`, summed (`1h30m`, `1.5h`). Where a tool accepts fewer units (docker takes Go's
 * durations, no days), the caller narrows `units`.
 */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
export type DurationUnit = keyof typeof UNIT_MS;

const TERM = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/** Milliseconds, or undefined when `text` is not a duration in the given units. */
export function parseDuration(text: string, units: readonly DurationUnit[] = Object.keys(UNIT_MS) as DurationUnit[]): number | undefined {
  const trimmed = text.trim();
  const terms = [...trimmed.matchAll(TERM)];
  if (terms.length === 0 || terms.map((term) => term[0]).join('') !== trimmed) return undefined;
  let total = 0;
  for (const [, amount, unit] of terms) {
    if (!units.includes(unit as DurationUnit)) return undefined;
    total += Number(amount) * UNIT_MS[unit as DurationUnit];
  }
  return Math.round(total);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${Math.round((ms % 60_000) / 1000)}s`;
}
