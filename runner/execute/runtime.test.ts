// The block runtime on its own (the engine drives it in every other test): a chained block the runner comes to late
// still gets all it printed and its end, whatever the runner did in between.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseRunbook } from '../parse/index.ts';
import { fence } from '../test/helpers.ts';
import { compileRunbook } from './compile.ts';
import { BlockRuntime, type BlockEnd } from './runtime.ts';

async function runtimeFor(source: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'runtime-test-'));
  const { runbook } = parseRunbook(source, path.join(dir, 'rb.md'));
  const compiled = await compileRunbook(runbook, dir);
  const printed: string[] = [];
  let current = '';
  const runtime = new BlockRuntime({
    seed: () => ({ modulePath: compiled.modulePath, file: runbook.file, cwd: dir, env: process.env, target: { name: 'local', sandbox: false, settings: {} }, modules: ['zx'], state: {}, secrets: [] }),
    onSecret: () => {},
    onOutput: (_stream, data) => printed.push(`${current}: ${data.trim()}`),
    onState: () => {},
  });
  return { runbook, runtime, printed, claimAs: (label: string) => (current = label) };
}

const step = (id: string, role: 'step' | 'verify', attempt = 1) => ({ id, title: id, role, attempt });

describe('the block runtime', () => {
  it('keeps what a chained verify printed, and its end, for the moment the runner comes to it', async () => {
    const { runbook, runtime, printed, claimAs } = await runtimeFor(
      `# A\n${fence}ts step\nconsole.log('step')\n${fence}\n${fence}ts verify\nconsole.log('verify')\nreturn 'checked'\n${fence}\n`,
    );
    const stepBlock = runbook.steps[0]!.block;
    const verifyBlock = runbook.steps[0]!.verifies[0]!;
    try {
      claimAs('step');
      const first = runtime.run({ file: runbook.file, block: stepBlock, step: step('a', 'step') }, [{ block: verifyBlock, step: step('a', 'verify') }]);
      const stepEnd = await first.end;
      assert.equal(stepEnd.kind === 'done' && stepEnd.failure, undefined);
      // The runner is busy elsewhere (a prompt, a slow reporter): the verify runs and ends meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(printed, ['step: step'], 'a chained block\'s output went to the block before it');
      claimAs('verify');
      const verified: BlockEnd = await runtime.run({ file: runbook.file, block: verifyBlock, step: step('a', 'verify') }).end;
      assert.deepEqual(printed, ['step: step', 'verify: verify']);
      assert.equal(verified.kind, 'done');
      assert.ok(verified.kind === 'done' && verified.failure === undefined && verified.durationMs !== undefined);
    } finally {
      runtime.close();
    }
  });

  it('refuses a request for another block while one is chained (a bug of the runner, not a hang)', async () => {
    const { runbook, runtime } = await runtimeFor(`# A\n${fence}ts step\nreturn 1\n${fence}\n${fence}ts verify\nreturn 2\n${fence}\n# B\n${fence}ts step\nreturn 3\n${fence}\n`);
    const [a, b] = runbook.steps;
    try {
      await runtime.run({ file: runbook.file, block: a!.block, step: step('a', 'step') }, [{ block: a!.verifies[0]!, step: step('a', 'verify') }]).end;
      assert.throws(() => runtime.run({ file: runbook.file, block: b!.block, step: step('b', 'step') }), /internal error: block b was asked for while a\/verify-1 was chained/);
    } finally {
      runtime.close();
    }
  });
});
