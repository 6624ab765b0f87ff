import type { Reporter } from './events.ts';

/** One JSON object per line per event, for machines (the events are already redacted plain data). */
export function jsonReporter(write: (text: string) => void = (text) => process.stdout.write(text)): Reporter {
  return {
    name: 'json',
    onEvent(event) {
      write(`${JSON.stringify({ ...event, ts: new Date().toISOString() })}\n`);
    },
  };
}
