import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RunbookInputError } from '../../common/diagnostics.ts';
import { runFile } from '../run.ts';
import { collector, fence, writeRunbook } from './helpers.ts';

async function run(source: string, options: Partial<Parameters<typeof runFile>[0]> = {}) {
  const file = await writeRunbook(source);
  const reporter = collector();
  const result = await runFile({ file, reporters: [reporter], ...options });
  return { result, reporter, output: reporter.of('output').map((event) => `${event.stepId}: ${event.text}`) };
}

const shared = `# Doc\n\n${fence}ts setup\nconst greet = (name: string) => $\`echo hello \${name}\`\nconst label = \`on \${target.name}\`\n${fence}\n\n# One\n${fence}ts step\nawait greet('one')\n${fence}\n\n# Two\n${fence}ts step\nawait greet('two')\nconsole.log(label)\n${fence}\n${fence}ts verify\nexpect(result.stdout).toBe('hello two\\non local\\n')\n${fence}\n`;

describe('setup blocks', () => {
  it('are seen by every block, and a helper that runs a command writes into the calling step\u2019s output', async () => {
    const { result, output } = await run(shared);
    assert.equal(result.exitCode, 0);
    assert.deepEqual(output, ['one: hello one', 'two: hello two', 'two: on local']);
  });

  it('run on --from and --only, so a skipped step leaves no helper undefined', async () => {
    for (const selection of [{ from: 'two' }, { only: 'two' }]) {
      const { result, output } = await run(shared, selection);
      assert.equal(result.exitCode, 0, JSON.stringify(selection));
      assert.deepEqual(output, ['two: hello two', 'two: on local']);
    }
  });

  it('may not run a command at their top level: the run fails at the setup line before any step', async () => {
    const { result, reporter } = await run(`# Doc\n${fence}ts setup\nawait $\`touch effect\`\n${fence}\n# One\n${fence}ts step\nconsole.log('never')\n${fence}\n`);
    assert.equal(result.exitCode, 1);
    assert.equal(reporter.of('step-begin').length, 0);
    assert.match(reporter.of('notice').map((event) => event.message).join('\n'), /rb\.md:3:\d+: setup failed: .*may not use `\$` at their top level/);
  });
});

describe('blocks that do not parse', () => {
  it('are refused at the user\u2019s line, and an extra brace never lets a skipped step\u2019s code run', async () => {
    const file = await writeRunbook(`---\ntargets:\n  prod: {}\n  dev: {}\ndefault-target: dev\n---\n# One\n${fence}ts step when=prod\n}\nawait fs.writeFile('leaked', 'x')\n{\n${fence}\n# Two\n${fence}ts step\nconsole.log('ok')\n${fence}\n`);
    await assert.rejects(runFile({ file, reporters: [] }), (error: unknown) => {
      assert.ok(error instanceof RunbookInputError);
      assert.deepEqual(error.diagnostics.map((message) => `${message.line}:${message.column} ${message.ruleId}`), ['9:1 block-syntax']);
      return true;
    });
    assert.equal(existsSync(path.join(path.dirname(file), 'leaked')), false);
  });
});

describe('shell steps', () => {
  it('run as a script with the target in the environment, checked by expect and a shell verify', async () => {
    const { result, output } = await run(`---\ntargets:\n  dev:\n    greeting: hello\ndefault-target: dev\n---\n# One\n${fence}bash step\necho "$TARGET_GREETING from $RUNBOOK_TARGET"\n${fence}\n${fence}text expect\nhello from dev\n${fence}\n${fence}bash verify\ntest "$TARGET_GREETING" = hello\n${fence}\n`);
    assert.equal(result.exitCode, 0);
    assert.deepEqual(output, ['one: hello from dev']);
  });

  it('fail at the first failing command (-e, pipefail), and their rollbacks run', async () => {
    const { result, output, reporter } = await run(`# One\n${fence}sh step\necho done\n${fence}\n${fence}sh rollback\necho undone\n${fence}\n# Two\n${fence}bash step\nfalse | cat\necho never\n${fence}\n`);
    assert.equal(result.exitCode, 1);
    assert.equal(reporter.of('step-end').find((event) => event.stepId === 'two')?.status, 'failed');
    assert.deepEqual(output, ['one: done', 'one: undone']);
  });
});

describe('a failed shell step', () => {
  const failureOf = (reporter: ReturnType<typeof collector>, stepId: string) =>
    reporter.of('block-end').find((event) => event.blockId === stepId && event.status === 'failed')?.failure;

  it('points at the line of the command that failed, inside a function too (bash)', async () => {
    // Lines 2..: the fence opens at line 2, so the script's first line is line 3.
    const { result, reporter } = await run(
      [`# One`, `${fence}bash step`, 'echo start', 'check() {', '  grep -q needle /dev/null', '}', 'check', 'echo never', fence].join('\n'),
    );
    assert.equal(result.exitCode, 1);
    const failure = failureOf(reporter, 'one');
    assert.deepEqual([failure?.line, failure?.column, failure?.ruleId], [5, 1, 'run-command']);
  });

  it('points at the failing line inside a command substitution (bash)', async () => {
    const { reporter } = await run([`# Two`, `${fence}bash step`, 'echo fine', 'out=$(echo a; false)', 'echo never', fence].join('\n'));
    const failure = failureOf(reporter, 'two');
    assert.deepEqual([failure?.line, failure?.column], [4, 1]);
  });

  it('points at its whole block when the shell has no ERR trap (sh)', async () => {
    const { reporter } = await run([`# Three`, `${fence}sh step`, 'echo fine', 'false', fence].join('\n'));
    const failure = failureOf(reporter, 'three');
    assert.deepEqual([failure?.line, failure?.column, failure?.place && 'end' in failure.place ? failure.place.end.line : undefined], [2, 1, 5]);
  });
});

describe('state a skipped step would have written', () => {
  const source = `# Make\n${fence}ts step\nstate.value = 'v'\n${fence}\n# Use\n${fence}ts step\nconsole.log(state.value.toUpperCase())\n${fence}\n# Maybe\n${fence}ts step\nconsole.log(state.value ?? 'none')\n${fence}\n`;

  it('is refused at plan time, at the read, naming the step that writes it', async () => {
    const file = await writeRunbook(source);
    await assert.rejects(runFile({ file, reporters: [], from: 'use' }), (error: unknown) => {
      assert.ok(error instanceof RunbookInputError);
      assert.deepEqual(error.diagnostics.map((message) => `${message.line}:${message.column} ${message.ruleId} ${message.reason.slice(0, 66)}`), [
        '7:13 state-left-empty Unexpected read of `state.value` in step `use`: only `make` writes',
      ]);
      return true;
    });
  });

  it('is fine when the read expects it may be missing, or the writer runs', async () => {
    assert.equal((await run(source, { only: 'maybe' })).result.exitCode, 0);
    assert.equal((await run(source)).result.exitCode, 0);
  });
});

describe('targets', () => {
  it('a runbook that declares targets but no default-target needs --target: no silent empty target', async () => {
    const file = await writeRunbook(`---\ntargets:\n  local:\n    host: x\n---\n# One\n${fence}ts step\nconsole.log(target.get('host'))\n${fence}\n`);
    await assert.rejects(runFile({ file, reporters: [] }), /no target, expected --target with one of: local/);
    const reporter = collector();
    assert.equal((await runFile({ file, reporters: [reporter], target: 'local' })).exitCode, 0);
    assert.deepEqual(reporter.of('output').map((event) => event.text), ['x']);
  });
});
