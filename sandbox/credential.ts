import { randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The per-sandbox credential: every control, portal and container-runtime endpoint of a sandbox requires it, so
 * another local user (who can reach loopback ports but not read this sandbox's files) gets nothing. It is a bearer
 * token in a mode 600 file, written as the one header line curl reads with `-H @FILE`, so clients are given it by
 * configuration (a file path) and it is never on a command line.
 */
export interface Credential {
  /** The mode 600 file holding `Authorization: Bearer TOKEN`. */
  readonly path: string;
  readonly token: string;
}

export const CREDENTIAL_HEADER = 'authorization';
/** The browser's way to carry it (Playwright sets it by configuration): a cookie, HttpOnly and Secure. */
export const CREDENTIAL_COOKIE = 'runbook-sandbox';

export const credentialPath = (dir: string): string => join(dir, 'credential');

/** A fresh credential for a sandbox starting in `dir`; the file is created with mode 600, from its first byte. */
export function createCredential(dir: string): Credential {
  const path = credentialPath(dir);
  const token = randomBytes(32).toString('base64url');
  rmSync(path, { force: true });
  // `wx`: never through a file or link someone else placed there; the mode applies at creation, before any write.
  const fd = openSync(path, 'wx', 0o600);
  try {
    writeSync(fd, `Authorization: Bearer ${token}\n`);
  } finally {
    closeSync(fd);
  }
  return { path, token };
}

/** The token in a credential file (`Authorization: Bearer TOKEN`, or the bare token). */
export function readCredential(path: string): string {
  const text = readFileSync(path, 'utf8').trim();
  return /^authorization:\s*bearer\s+(\S+)$/i.exec(text)?.[1] ?? text;
}

/** The header a client sends, read from the credential file a sandbox's facts name (`credential-file`). */
export function credentialHeaders(facts: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const file = facts['credential-file'];
  return file ? { [CREDENTIAL_HEADER]: `Bearer ${readCredential(file)}` } : {};
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** True when a request carries `token`, as a bearer header or as the browser's cookie. */
export function carriesCredential(token: string, header: string | null | undefined, cookie: string | null | undefined): boolean {
  const bearer = /^bearer\s+(\S+)$/i.exec(header ?? '')?.[1];
  if (bearer !== undefined && same(bearer, token)) return true;
  for (const part of (cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === CREDENTIAL_COOKIE && same(value.join('='), token)) return true;
  }
  return false;
}
