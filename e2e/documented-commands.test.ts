/**
 * Every `--from ID` and `--only ID` that runbook.md tells its reader to run works on the sandbox. The commands are
 * read from the document itself, so advice added later is tested too. One sandbox serves every case: a full
 * rotation first (the state a reader is in when the advice applies), then each documented command on it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { collector } from '../runner/test/helpers.ts';
import { runFile } from '../runner/run.ts';
import { startSandbox, type SandboxHandle } from '../sandbox/index.ts';

const runbookPath = path.resolve(import.meta.dirname, '..', 'runbook.md');

/**
 * `npx runbook run ... --from ID` / `--only ID` as the prose writes them. `--only <id>` stands for each diagnosis
 * (`diagnose-*`, the steps it introduces); the by-hand restore is for a failed rotation and is left out: after a
 * completed one it would put the deleted old secret back.
 */
export function documentedSelections(source: string): Array<{ flag: 'from' | 'only'; id: string }> {
  const found = new Map<string, { flag: 'from' | 'only'; id: string }>();
  const add = (flag: string, id: string) => found.set(`${flag} ${id}`, { flag: flag as 'from' | 'only', id });
  for (const match of source.matchAll(/`npx runbook run [^`]*--(from|only) ([A-Za-z0-9][\w.-]*|<id>)[^`]*`/g)) {
    if (match[2] !== '<id>') add(match[1]!, match[2]!);
    else for (const step of source.matchAll(/^```ts step id=(diagnose-[\w-]+)/gm)) add('only', step[1]!);
  }
  return [...found.values()];
}

describe('the --from and --only commands runbook.md gives its reader', { concurrency: false }, () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'documented-'));
  let sandbox: SandboxHandle;
  const run = async (selection: { from?: string; only?: string } = {}) => {
    const events = collector();
    const result = await runFile({
      file: runbookPath,
      target: 'sandbox',
      // What the reader answers at the prompts; the sandbox asks none.
      yes: true,
      ...selection,
      workspace: path.join(dir, 'workspace'),
      reporters: [events],
      sandbox: async () => ({ facts: { ...sandbox.facts }, release: async () => {} }),
    });
    const failures = events.of('step-end').filter((event) => event.failure).map((event) => `${event.stepId}: ${event.failure?.message}`);
    return { result, events, failures };
  };

  before(async () => {
    sandbox = await startSandbox({ dir: path.join(dir, 'sandbox') });
  });
  after(async () => {
    await sandbox?.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  const selections = documentedSelections(readFileSync(runbookPath, 'utf8'));

  it('finds the commands in the document', () => {
    assert.deepEqual(
      selections.map(({ flag, id }) => `--${flag} ${id}`).sort(),
      ['--from token-roundtrip', '--only diagnose-invalid-client', '--only diagnose-outbound', '--only rearm-subscription'],
    );
  });

  it('rotates first, as the reader did before following the advice', async () => {
    const { result, failures } = await run();
    assert.equal(result.exitCode, 0, failures.join('\n'));
  });

  for (const { flag, id } of selections) {
    it(`npx runbook run --target sandbox --${flag} ${id}`, async () => {
      const { result, events, failures } = await run({ [flag]: id });
      assert.equal(result.exitCode, 0, failures.join('\n'));
      const ran = events.of('step-end').filter((event) => event.status === 'passed').map((event) => event.stepId);
      assert.ok(ran.includes(id), `${id} did not run: ${ran.join(', ')}`);
      if (flag === 'only') assert.deepEqual(ran, [id]);
    });
  }
});
