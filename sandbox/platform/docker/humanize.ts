import { parseDuration } from '../../../common/duration.ts';

/** Docker's `units.HumanDuration`, so `docker ps` Status reads exactly like the real one ("Up 3 seconds"). */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(minutes / 60);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/** Go's time.ParseDuration has no days or weeks. */
const GO_UNITS = ['ms', 's', 'm', 'h'] as const;

/** Parses `--since` values: Go durations ("5m", "1h30m", "10s") relative to now, RFC 3339, or unix seconds. */
export function parseSince(value: string, now: number): number | undefined {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const ago = parseDuration(value, GO_UNITS);
  if (ago !== undefined) return now - ago;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}
