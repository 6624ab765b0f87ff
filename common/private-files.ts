import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';

/**
 * Files that hold secrets, or what a run learned (journals, caches, reports, locks, sandbox state), are this user's
 * alone: folders 700, files 600 from their first byte. A file is written under a fresh name created exclusively
 * (`wx`: never through a file or link someone placed there) with its mode, then renamed over the target, so no reader
 * ever sees it half-written or with wider permissions.
 */
export function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode does not apply to a folder that already existed (a workspace from before this rule).
  chmodSync(dir, 0o700);
  return dir;
}

const tempFor = (file: string) => `${file}.${randomBytes(6).toString('hex')}.tmp`;

export function writePrivateFileSync(file: string, data: string | Uint8Array): void {
  const temp = tempFor(file);
  writeFileSync(temp, data, { mode: 0o600, flag: 'wx' });
  renameSync(temp, file);
}

export async function writePrivateFile(file: string, data: string | Uint8Array): Promise<void> {
  const temp = tempFor(file);
  await writeFile(temp, data, { mode: 0o600, flag: 'wx' });
  await rename(temp, file);
}
