// A step's verifies: what the record says of each, what runs and what never runs.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { RunEvent } from '../report/events.ts';
import { runFile } from '../run.ts';
import { collector, fence, writeRunbook } from './helpers.ts';

async function run(source: string) {
  const file = await writeRunbook(source);
  const reporter = collector();
  const result = await runFile({ file, reporters: [reporter], workspace: path.dirname(file) });
  return { result, reporter, dir: path.dirname(file) };
}

/** The events of blocks, as `kind blockId [text]`, in the order the runner emitted them. */
function blockEvents(events: RunEvent[]): string[] {
  return events.flatMap((event) => {
    if (event.kind === 'block-begin' || event.kind === 'block-end') return [`${event.kind} ${event.blockId}`];
    if (event.kind === 'output') return [`output ${event.blockId} ${event.text}`];
    return [];
  });
}

describe('the verifies of a step', () => {
  it("gives each verify's output to that verify, in order, after the step's end, with its time", async () => {
    const { result, reporter } = await run(
      `# A\n${fence}ts step\nconsole.log('from the step')\nawait $\`echo from the command\`\n${fence}\n` +
        `${fence}ts verify\nconsole.log('first verify')\nawait $\`sleep 0.2; echo first verify command\`\nexpect(result.stdout).toBe('from the step\\nfrom the command\\n')\n${fence}\n` +
        `${fence}ts verify\nconsole.log('second verify')\nexpect(result.exitCode).toBe(0)\n${fence}\n`,
    );
    assert.equal(result.exitCode, 0);
    assert.deepEqual(blockEvents(reporter.events), [
      'block-begin a',
      'output a from the step',
      'output a from the command',
      'block-end a',
      'block-begin a/verify-1',
      'output a/verify-1 first verify',
      'output a/verify-1 first verify command',
      'block-end a/verify-1',
      'block-begin a/verify-2',
      'output a/verify-2 second verify',
      'block-end a/verify-2',
    ]);
    const verify = reporter.of('block-end').find((event) => event.blockId === 'a/verify-1')!;
    assert.ok(verify.durationMs >= 150, `the verify took ${verify.durationMs} ms by the record`);
  });

  it('runs no verify after a failed one, nor after a failed step', async () => {
    const verified = await run(
      `# A\n${fence}ts step\nawait $\`touch a-step\`\n${fence}\n` +
        `${fence}ts verify\nthrow new Error('first verify fails')\n${fence}\n` +
        `${fence}ts verify\nawait $\`touch a-second-verify\`\n${fence}\n`,
    );
    assert.equal(verified.result.exitCode, 1);
    assert.equal(existsSync(path.join(verified.dir, 'a-step')), true);
    assert.equal(existsSync(path.join(verified.dir, 'a-second-verify')), false, 'the verify after a failed one ran');
    const failed = await run(`# B\n${fence}ts step\nthrow new Error('step fails')\n${fence}\n${fence}ts verify\nawait $\`touch b-verify\`\n${fence}\n`);
    assert.equal(failed.result.exitCode, 1);
    assert.equal(existsSync(path.join(failed.dir, 'b-verify')), false, 'a failed step was verified');
  });

  it('runs no verify when the documented output does not match', async () => {
    const { result, dir } = await run(
      `# A\n${fence}ts step\nconsole.log('actual')\n${fence}\n${fence}text expect\ndocumented\n${fence}\n${fence}ts verify\nawait $\`touch verified\`\n${fence}\n`,
    );
    assert.equal(result.exitCode, 1);
    assert.equal(existsSync(path.join(dir, 'verified')), false);
  });

  it("stops a verify at its own timeout, and the step's retry starts over", async () => {
    const { result, reporter } = await run(
      `# A\n${fence}ts step retries=1 retry-delay=1s\nstate.attempts = (state.attempts ?? 0) + 1\n${fence}\n` +
        `${fence}ts verify timeout=1s\nif (state.attempts === 1) await $\`sleep 30\`\n${fence}\n`,
    );
    assert.equal(result.exitCode, 0, JSON.stringify(reporter.of('block-end').map((event) => event.failure?.reason)));
    const ends = reporter.of('block-end').map((event) => `${event.blockId} ${event.status}`);
    assert.deepEqual(ends, ['a passed', 'a/verify-1 failed', 'a passed', 'a/verify-1 passed']);
    assert.match(String(reporter.of('block-end')[1]!.failure?.reason), /still running after 1s/);
  });
});
