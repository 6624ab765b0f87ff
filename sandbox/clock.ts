import { parseDuration } from '../common/duration.ts';
import type { Clock } from './types.ts';

/**
 * Sandbox time is real time plus an offset that only moves forward: secrets expire and subscriptions lapse on it,
 * so tests can jump months ahead without waiting and without faking the process-wide Date.
 */
export function createClock(offsetMs = 0): Clock & { readonly offsetMs: number } {
  let offset = offsetMs;
  const listeners = new Set<(now: number) => void>();
  return {
    get offsetMs() {
      return offset;
    },
    now: () => Date.now() + offset,
    advance(ms: number) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`Unexpected clock advance ${ms}ms, expected a non-negative duration`);
      offset += ms;
      const now = Date.now() + offset;
      for (const listener of [...listeners]) listener(now);
    },
    onAdvance(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Parses `90s`, `12h`, `181d`, `1h30m` (the durations the CLI and control API accept) into milliseconds. */
export function parseClockDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new RangeError(`Unexpected duration "${text}", expected e.g. 90s, 12h, 181d or 1h30m`);
  return ms;
}
