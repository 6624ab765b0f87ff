import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Diagnostic } from '../../common/diagnostics.ts';

/**
 * A baseline lets a repository adopt the gate: the findings it lists (written by `check --update --baseline FILE`)
 * are known and accepted, so only new drift fails the build. A finding is named by its document, rule and what it
 * claims, never by its line: editing the document around it does not bring it back.
 */
export interface BaselineEntry {
  document: string;
  rule: string;
  actual: string;
}

export function fingerprint(document: string, message: Diagnostic): string {
  const actual = message.actual ?? message.reason;
  return JSON.stringify([document, message.ruleId ?? '', actual]);
}

export async function readBaseline(file: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw error;
  }
  const parsed = JSON.parse(text) as { version?: number; findings?: BaselineEntry[] };
  if (parsed.version !== 1 || !Array.isArray(parsed.findings)) throw new Error(`${file}: expected {"version": 1, "findings": [...]}`);
  return new Set(parsed.findings.map((entry) => JSON.stringify([entry.document, entry.rule, entry.actual])));
}

export async function writeBaseline(file: string, fingerprints: Iterable<string>): Promise<void> {
  const findings = [...new Set(fingerprints)]
    .sort()
    .map((key) => JSON.parse(key) as [string, string, string])
    .map(([document, rule, actual]) => ({ document, rule, actual }));
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify({ version: 1, findings }, null, 2)}\n`);
  await rename(temp, file);
}
