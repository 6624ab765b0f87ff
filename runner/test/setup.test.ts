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
    const file = await writeRunbook(`# One\n${fence}ts step when=prod\n}\nawait fs.writeFile('leaked', 'x')\n{\n${fence}\n# Two\n${fence}ts step\nconsole.log('ok')\n${fence}\n`);
    await assert.rejects(runFile({ file, reporters: [] }), (error: unknown) => {
      assert.ok(error instanceof RunbookInputError);
      assert.deepEqual(error.diagnostics.map((message) => `${message.line}:${message.column} ${message.ruleId}`), ['3:1 block-syntax']);
      return true;
    });
    assert.equal(existsSync(path.join(path.dirname(file), 'leaked')), false);
  });
});
