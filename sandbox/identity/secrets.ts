import { randomBytes, randomUUID } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.~';

/**
 * A value shaped like Entra's current client secrets (40 characters, `Q~` at index 4): realistic shapes let leak
 * scanners and paste checks that are written against production values work on sandbox values too.
 */
export function newSecretValue(): string {
  const bytes = randomBytes(38);
  const chars = [...bytes].map((byte) => ALPHABET[byte % ALPHABET.length]);
  return `${chars.slice(0, 3).join('')}8Q~${chars.slice(3, 37).join('')}`;
}

export const newId = (): string => randomUUID();
