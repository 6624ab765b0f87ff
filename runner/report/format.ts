import path from 'node:path';
import type { Failure, Location } from './events.ts';

export function where(location: Location): string {
  return `${location.file}:${location.line}:${location.column}`;
}

/** The lines a human needs to act on a failure: where, what, and the few lines that explain it. */
export function failureLines(failure: Failure): string[] {
  return [`${where(failure.location)}: ${failure.message}`, ...failure.details.map((detail) => `    ${detail}`)];
}

export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') ? relative : file;
}
