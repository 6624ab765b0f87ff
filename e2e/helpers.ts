import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Secrets are compared by digest, so a failed assertion never prints one. */
export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The VPS env file of a sandbox (`vps-home` + `env-file`). */
export function envFileOf(facts: Readonly<Record<string, string | undefined>>): string {
  return path.join(facts['vps-home']!, facts['env-file']!);
}

/** The client secret the VPS env file holds now ('' when it holds none). */
export function envFileSecret(facts: Readonly<Record<string, string | undefined>>): string {
  return /^MICROSOFT_GRAPH_CLIENT_SECRET=(.*)$/m.exec(readFileSync(envFileOf(facts), 'utf8'))?.[1] ?? '';
}
