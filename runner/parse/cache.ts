import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { writePrivateFile } from '../../common/private-files.ts';
import path from 'node:path';
import v8 from 'node:v8';
import type { Runbook } from '../model.ts';
import { repoPath } from '../../common/repo.ts';

let fingerprint: string | undefined;

/**
 * What the model of a document depends on besides the document: the parser's own code and the versions of the
 * libraries it uses. Any change to either makes every cached model stale.
 */
function parserFingerprint(): string {
  if (fingerprint) return fingerprint;
  const hash = createHash('sha256');
  const dir = repoPath('runner', 'parse');
  const sources = readdirSync(dir).filter((name) => name.endsWith('.ts') && !name.includes('.test.')).sort();
  for (const name of sources) hash.update(name).update('\0').update(readFileSync(path.join(dir, name)));
  // The model and the shared pieces the parser builds it with (positions, diagnostics, the duration grammar).
  for (const file of [['runner', 'model.ts'], ['common', 'position.ts'], ['common', 'diagnostics.ts'], ['common', 'duration.ts']]) hash.update(readFileSync(repoPath(...file)));
  hash.update(readFileSync(repoPath('package-lock.json')));
  return (fingerprint = hash.digest('hex'));
}

/**
 * A cache of parsed documents, by content: running an unchanged runbook again (a retry, `resume`, CI, the quarterly
 * validation) skips the Markdown parser, the largest fixed cost of a run, as its compiled module already skips the
 * transpiler. Only documents without errors are kept; v8's serializer keeps the model's shared objects shared.
 */
export class ParseCache {
  constructor(private readonly dir: string) {}

  #entry(source: string, file: string): string {
    const key = createHash('sha256').update(parserFingerprint()).update('\0').update(file).update('\0').update(source).digest('hex').slice(0, 24);
    return path.join(this.dir, `${path.basename(file)}.${key}.model`);
  }

  async get(source: string, file: string): Promise<Runbook | undefined> {
    try {
      return v8.deserialize(await readFile(this.#entry(source, file))) as Runbook;
    } catch {
      return undefined; // Missing or unreadable: parse again.
    }
  }

  async set(source: string, file: string, runbook: Runbook): Promise<void> {
    const entry = this.#entry(source, file);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    // Written aside and renamed: a concurrent run never reads half a model. 600: a model holds the document's code.
    await writePrivateFile(entry, v8.serialize(runbook));
  }
}
