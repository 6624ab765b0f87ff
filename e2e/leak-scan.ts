import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import AdmZip from 'adm-zip';
import { readCredential } from '../sandbox/credential.ts';

/** Where a secret showed up; the value itself is never part of a finding, only its first three characters. */
export interface LeakFinding {
  file: string;
  /** Entry inside a zip (a Playwright trace), when the file is one. */
  entry?: string;
  encoding: string;
  hint: string;
}

/**
 * Base64 of `value` as it appears inside a longer base64 text: the encoding depends on where the value starts
 * relative to a 3-byte group, so each of the three alignments gives a run of characters that only the value decides.
 */
function base64Cores(value: Buffer): string[] {
  const cores: string[] = [];
  for (let shift = 0; shift < 3; shift += 1) {
    const encoded = Buffer.concat([Buffer.alloc(shift), value]).toString('base64').replace(/=+$/, '');
    const start = Math.ceil((shift * 8) / 6);
    const end = Math.floor(((shift + value.length) * 8) / 6);
    cores.push(encoded.slice(start, end));
  }
  return cores;
}

/** Every spelling of `secret` an artifact could hold it in: raw, base64 (standard and URL-safe), URL- and form-encoded. */
export function spellings(secret: string): Array<{ encoding: string; bytes: Buffer }> {
  const raw = Buffer.from(secret, 'utf8');
  const forms = new Map<string, string>([['raw', secret]]);
  base64Cores(raw).forEach((core, shift) => {
    forms.set(`base64 (offset ${shift})`, core);
    forms.set(`base64url (offset ${shift})`, core.replace(/\+/g, '-').replace(/\//g, '_'));
  });
  const component = encodeURIComponent(secret);
  const form = new URLSearchParams({ v: secret }).toString().slice(2);
  for (const [encoding, text] of [['url-encoded', component], ['form-encoded', form]] as const) {
    forms.set(encoding, text);
    forms.set(`${encoding} (lower-case hex)`, text.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()));
  }
  // Identical spellings (a secret with nothing to escape) are searched once, under their first name.
  const seen = new Set<string>();
  return [...forms].filter(([, text]) => !seen.has(text) && seen.add(text)).map(([encoding, text]) => ({ encoding, bytes: Buffer.from(text, 'utf8') }));
}

/** Files under `root` (or `root` itself), recursively. */
export function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  if (!statSync(root).isDirectory()) return [root];
  return readdirSync(root, { withFileTypes: true }).flatMap((entry) => filesUnder(path.join(root, entry.name)));
}

function scanBuffer(data: Buffer, secrets: string[], where: Omit<LeakFinding, 'encoding' | 'hint'>): LeakFinding[] {
  const findings: LeakFinding[] = [];
  for (const secret of secrets) {
    for (const { encoding, bytes } of spellings(secret)) {
      if (data.includes(bytes)) findings.push({ ...where, encoding, hint: secret.slice(0, 3) });
    }
  }
  return findings;
}

/**
 * Searches each file for each secret; a zip (a Playwright trace: DOM snapshots, network bodies, screencast frames,
 * test events) is searched entry by entry, inflated, as well as in its stored bytes.
 */
export function scanForSecrets(files: string[], secrets: string[]): LeakFinding[] {
  const findings: LeakFinding[] = [];
  for (const file of files) {
    const data = readFileSync(file);
    findings.push(...scanBuffer(data, secrets, { file }));
    if (data.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04]))) {
      for (const entry of new AdmZip(data).getEntries()) {
        if (!entry.isDirectory) findings.push(...scanBuffer(entry.getData(), secrets, { file, entry: entry.entryName }));
      }
    }
  }
  return findings;
}

/**
 * What no artefact of a sandbox run may hold: the sandbox's credential (it opens the control API, the portal, the
 * docker daemon and the backend's admin API), every client secret the tenant ever issued (deleted ones included) and
 * every access token its authority signed.
 */
export function sandboxSecrets(
  facts: Readonly<Record<string, string | undefined>>,
  tenant?: { knownSecretValues(): readonly string[]; knownTokenValues?(): readonly string[] },
): string[] {
  const credentialFile = facts['credential-file'];
  return [...(credentialFile ? [readCredential(credentialFile)] : []), ...(tenant?.knownSecretValues() ?? []), ...(tenant?.knownTokenValues?.() ?? [])];
}

export const describeFinding = (finding: LeakFinding): string =>
  `${finding.file}${finding.entry ? ` (entry ${finding.entry})` : ''}: secret ${finding.hint}*** ${finding.encoding}`;
