import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { messageLines, type RunbookInputError } from '../../common/diagnostics.ts';
import { runFile } from '../run.ts';
import { collector, fence, runCli, writeRunbook } from './helpers.ts';

const targets = `---\ntitle: T\ntargets:\n  prod:\n    host: prod.example\n  sandbox:\n    sandbox: false\n    host: box\ndefault-target: prod\n---\n`;

async function run(source: string, options: Partial<Parameters<typeof runFile>[0]> = {}) {
  const file = await writeRunbook(source);
  const reporter = collector();
  const result = await runFile({ file, reporters: [reporter], ...options });
  return { result, reporter, file, dir: path.dirname(file) };
}

describe('running a runbook', () => {
  it('shares state between steps and passes each step result to its verify', async () => {
    const { result, reporter } = await run(
      `# One\n${fence}ts step\nstate.count = 1\nconsole.log('hello')\nawait $\`echo world\`\nreturn 'v'\n${fence}\n${fence}ts verify\nexpect(result.value).toBe('v')\nexpect(result.stdout).toBe('hello\\nworld\\n')\nexpect(result.exitCode).toBe(0)\n${fence}\n# Two\n${fence}ts step\nexpect(state.count).toBe(1)\n${fence}\n`,
    );
    assert.equal(result.exitCode, 0);
    assert.deepEqual(reporter.of('output').map((event) => event.text), ['hello', 'world']);
    assert.deepEqual(reporter.of('step-end').map((event) => [event.stepId, event.status]), [['one', 'passed'], ['two', 'passed']]);
  });

  it("runs commands as the operator's terminal would when started by CI, cron or systemd (no SHLVL): ~/.bashrc stays out", async () => {
    // Through the CLI: the runner's own environment has no SHLVL, as under a CI runner or a systemd unit.
    const home = mkdtempSync(path.join(os.tmpdir(), 'run-home-'));
    writeFileSync(path.join(home, '.bashrc'), 'echo "from ~/.bashrc"\n');
    const file = await writeRunbook(`# One\n${fence}ts step\nawait $\`echo world\`\nawait $\`echo again\`\n${fence}\n${fence}ts verify\nexpect(result.stdout).toBe('world\\nagain\\n')\n${fence}\n`);
    const run = await runCli(['run', file], { cwd: path.dirname(file), env: { SHLVL: undefined, HOME: home } });
    assert.doesNotMatch(run.stdout, /from ~\/\.bashrc/);
    assert.equal(run.code, 0, run.stdout);
  });

  it('fails at the runbook line of the failing command and shows its stderr', async () => {
    const { result, reporter } = await run(`# A\n\n${fence}ts step\nconst a = 1\nawait $\`ls /definitely-missing-dir\`\n${fence}\n`);
    assert.equal(result.exitCode, 1);
    const failure = reporter.of('step-end')[0]?.failure;
    assert.ok(failure);
    assert.deepEqual(messageLines(failure, 'rb.md'), ['rb.md:5:7: command failed with exit code 2 (misuse of shell builtins) [run-command]', "    ls: cannot access '/definitely-missing-dir': No such file or directory"]);
  });

  it('fails a step whose verify fails, naming the verify line', async () => {
    const { result, reporter } = await run(`# A\n${fence}ts step\nreturn 2\n${fence}\n\n${fence}ts verify\n\nexpect(result.value).toBe(3)\n${fence}\n`);
    assert.equal(result.exitCode, 1);
    const failure = reporter.of('step-end')[0]?.failure;
    assert.ok(failure);
    assert.deepEqual(messageLines(failure, 'rb.md'), ['rb.md:8:22: expect(received).toBe(expected) // Object.is equality [run-verify]', '    Expected: 3', '    Received: 2']);
    assert.deepEqual([failure.actual, failure.expected], ['2', ['3']]);
  });

  it('fails on drift between the documented and the real output, at the expect line', async () => {
    const { result, reporter } = await run(`# A\n${fence}ts step\nconsole.log('status 200')\nconsole.log('token ok')\n${fence}\n${fence}text expect\nstatus [..]\ntoken FAIL\n${fence}\n`);
    assert.equal(result.exitCode, 1);
    const failure = reporter.of('step-end')[0]?.failure;
    assert.ok(failure);
    assert.deepEqual(messageLines(failure, 'rb.md'), [
      'rb.md:8:1: Unexpected output, expected what the expect block documents [run-expect]',
      '    expected: token FAIL',
      '    actual:   token ok',
    ]);
    assert.deepEqual([failure.actual, failure.expected], ['token ok', ['token FAIL']]);
  });

  it('runs rollbacks of completed steps in reverse order, the failing step included once it took effect', async () => {
    const { result, reporter } = await run(
      [1, 2, 3]
        .map((n) => `# S${n}\n${fence}ts step\nconsole.log('do ${n}')\n${fence}\n${n === 3 ? `${fence}ts verify\nthrow new Error('verify ${n} failed')\n${fence}\n` : ''}${fence}ts rollback\nconsole.log('undo ${n}')\n${fence}\n`)
        .join('\n'),
    );
    assert.equal(result.exitCode, 1);
    assert.deepEqual(reporter.of('rollback-end').map((event) => event.stepId), ['s3', 's2', 's1']);
    assert.deepEqual(reporter.of('output').map((event) => event.text), ['do 1', 'do 2', 'do 3', 'undo 3', 'undo 2', 'undo 1']);
  });

  it("runs a failed step's own rollback: the block may have done part of its work", async () => {
    const { reporter } = await run(`# S1\n${fence}ts step\n${fence}\n${fence}ts rollback\nconsole.log('undo 1')\n${fence}\n# S2\n${fence}ts step\nconsole.log('half done')\nthrow new Error('no')\n${fence}\n${fence}ts rollback\nconsole.log('undo 2')\n${fence}\n`);
    assert.deepEqual(reporter.of('rollback-end').map((event) => [event.stepId, event.status]), [['s2', 'passed'], ['s1', 'passed']]);
    assert.deepEqual(reporter.of('output').map((event) => event.text), ['half done', 'undo 2', 'undo 1']);
  });

  it('does not roll back a step that never began (declined)', async () => {
    const { reporter } = await run(`${targets}# S1\n${fence}ts step\n${fence}\n${fence}ts rollback\nconsole.log('undo 1')\n${fence}\n# S2\n${fence}ts step confirm\n${fence}\n${fence}ts rollback\nconsole.log('undo 2')\n${fence}\n`, {
      interaction: { interactive: true, confirm: async () => false, manual: async () => 'abort' },
    });
    assert.deepEqual(reporter.of('rollback-end').map((event) => event.stepId), ['s1']);
  });

  it('stops rolling back when a rollback fails, so earlier undos never run on a half-undone state', async () => {
    const { reporter } = await run(`# S1\n${fence}ts step\n${fence}\n${fence}ts rollback\nconsole.log('undo 1')\n${fence}\n# S2\n${fence}ts step\n${fence}\n${fence}ts rollback\nthrow new Error('cannot undo')\n${fence}\n# S3\n${fence}ts step\nthrow new Error('x')\n${fence}\n`);
    assert.deepEqual(reporter.of('rollback-end').map((event) => [event.stepId, event.status]), [['s2', 'failed'], ['s1', 'skipped']]);
  });

  it('retries a step and passes when a later attempt succeeds', async () => {
    const { result, reporter } = await run(`# A\n${fence}ts step retries=2 retry-delay=10ms\nstate.n = (state.n ?? 0) + 1\nif (state.n < 3) throw new Error('flaky')\n${fence}\n`);
    assert.equal(result.exitCode, 0);
    assert.equal(reporter.of('step-retry').length, 2);
  });

  it('times a step out and kills what it started', async () => {
    const { result, reporter } = await run(`# A\n${fence}ts step timeout=300ms\nawait $\`sleep 5\`\n${fence}\n`);
    assert.equal(result.exitCode, 1);
    // The step's own time (the block thread loads before it): its 300 ms, then the stop, far from the command's 5 s.
    assert.ok(reporter.of('step-end')[0]!.durationMs < 3000);
    assert.equal(reporter.of('step-end')[0]?.failure?.ruleId, 'run-timeout');
  });

  // The retry runs on a fresh thread, whose setup takes longer than the step's whole timeout: only the block counts.
  it("counts a retried step's timeout from its block's start, not while its fresh thread loads", async () => {
    const { result, reporter } = await run(
      `# A\n${fence}ts setup\nconst until = Date.now() + 600\nwhile (Date.now() < until) {}\n${fence}\n${fence}ts step timeout=300ms retries=1 retry-delay=10ms\nif (state.tried === undefined) {\n  state.tried = true\n  await $\`sleep 5\`\n}\n${fence}\n`,
    );
    assert.deepEqual(reporter.of('step-end').map((event) => [event.status, event.failure?.ruleId]), [['passed', undefined]]);
    assert.equal(reporter.of('step-retry').length, 1);
    assert.equal(result.exitCode, 0);
  });

  it('skips steps whose when= names another target, and exposes the target settings', async () => {
    const { result, reporter } = await run(`${targets}# A\n${fence}ts step when=sandbox\nthrow new Error('must not run')\n${fence}\n# B\n${fence}ts step\nconsole.log(target.name, target.get('host'))\n${fence}\n`);
    assert.equal(result.exitCode, 0);
    assert.equal(reporter.of('step-skip')[0]?.reason, 'when=sandbox (target prod)');
    assert.deepEqual(reporter.of('output').map((event) => event.text), ['prod prod.example']);
  });

  it('refuses, before the first step, a run without a terminal that would meet a question it cannot answer', async () => {
    const source = `${targets}# A\n${fence}ts step\nawait $\`touch a-ran\`\n${fence}\n# B\n${fence}ts step confirm\nconsole.log('ran')\n${fence}\n# C\n\nClick **Add**.\n\n${fence}ts step manual\nconsole.log('automated')\n${fence}\n`;
    const file = await writeRunbook(source);
    await assert.rejects(runFile({ file, reporters: [] }), (error: RunbookInputError) => {
      assert.deepEqual(
        error.diagnostics.map((message) => `${message.line}:${message.column} ${message.ruleId}`),
        ['16:1 unanswerable-step', '23:1 unanswerable-step'],
      );
      assert.match(error.diagnostics[0]!.reason, /`confirm` step `b`.*--yes/);
      assert.match(error.diagnostics[1]!.reason, /operator step `c`.*--automate/);
      return true;
    });
    assert.equal(existsSync(path.join(path.dirname(file), 'a-ran')), false);
    const answered = await run(source, { yes: true, automate: true });
    assert.equal(answered.result.exitCode, 0);
    assert.deepEqual(answered.reporter.of('output').map((event) => event.text), ['ran', 'automated']);
    assert.equal(existsSync(path.join(answered.dir, 'a-ran')), true);
  });

  it('waits for the operator on a manual step of a real target, and runs its automation with --automate', async () => {
    const source = `${targets}# A\n\nClick **Add**.\n\n${fence}ts step manual\nconsole.log('automated')\n${fence}\n`;
    const answered = await run(source, {
      interaction: { interactive: true, confirm: async () => true, manual: async () => 'done' },
    });
    assert.equal(answered.result.exitCode, 0);
    assert.equal(answered.reporter.of('operator')[0]?.prose, 'Click **Add**.');
    assert.deepEqual(answered.reporter.of('output'), []);
    const automated = await run(source, { automate: true });
    assert.deepEqual(automated.reporter.of('output').map((event) => event.text), ['automated']);
  });

  it('never runs prose fences', async () => {
    const { dir } = await run(`# A\n${fence}ts\nawait fs.writeFile(path.join(process.cwd(), 'prose-ran'), 'x')\n${fence}\n${fence}ts step\n${fence}\n`);
    assert.equal(existsSync(path.join(dir, 'prose-ran')), false);
  });

  it('interrupts the running step, rolls back, and reports 130', async () => {
    const controller = new AbortController();
    const pending = run(`# S1\n${fence}ts step\n${fence}\n${fence}ts rollback\nconsole.log('undo 1')\n${fence}\n# S2\n${fence}ts step\nconsole.log('waiting')\nawait $\`sleep 5\`\n${fence}\n`, {
      interrupt: controller.signal,
      sinks: [(event) => event.kind === 'output' && event.text === 'waiting' && controller.abort()],
    });
    const { result, reporter } = await pending;
    assert.equal(result.exitCode, 130);
    assert.equal(result.status, 'interrupted');
    assert.deepEqual(reporter.of('rollback-end').map((event) => event.stepId), ['s1']);
  });

  // The document is in run-begin (the reports render it): the secret is made at run time, as a real one is read.
  it('keeps secrets out of every event', async () => {
    const { reporter } = await run(`# A\n${fence}ts step\nconst value = secrets.mark('TOKEN', ['hunter2', 'canary', 'value'].join('-'))\nconsole.log('token is', value)\nthrow new Error('failed with ' + value)\n${fence}\n`);
    const text = JSON.stringify(reporter.events);
    assert.equal(text.includes('hunter2-canary-value'), false);
    assert.match(text, /\[secret:TOKEN\]/);
  });

  // The rest of zx (fs-extra, globby, YAML: most of a block thread's start) is loaded only for a document naming it.
  it("loads zx's libraries only for a document whose blocks name one", async () => {
    const probe = `const { createRequire } = await import('node:module')\nreturn Object.keys(createRequire(import.meta.url).cache).some((file) => file.endsWith('vendor-extra.cjs'))`;
    const plain = await run(`# A\n${fence}ts step\n${probe}\n${fence}\n${fence}ts verify\nexpect(result.value).toBe(false)\n${fence}\n`);
    assert.deepEqual(plain.reporter.of('step-end').map((event) => [event.stepId, event.status]), [['a', 'passed']]);
    const naming = await run(`# A\n${fence}ts step\nconsole.log(YAML.stringify({ a: 1 }).trim(), typeof fs.pathExists, typeof glob, typeof sleep, typeof retry)\n${probe}\n${fence}\n${fence}ts verify\nexpect(result.value).toBe(true)\n${fence}\n`);
    assert.deepEqual(naming.reporter.of('step-end').map((event) => [event.stepId, event.status]), [['a', 'passed']]);
    assert.deepEqual(naming.reporter.of('output').map((event) => event.text), ['a: 1 function function function function']);
  });
});

describe('on-demand steps', () => {
  it('are skipped in a normal run and run alone with --only', async () => {
    const source = `# Main\n${fence}ts step\nconsole.log('main')\n${fence}\n# Diagnose\n${fence}ts step id=diagnose on-demand rollback=none reason="read-only"\nconsole.log('diagnosis')\n${fence}\n`;
    const normal = await run(source);
    assert.deepEqual(normal.reporter.of('output').map((event) => event.text), ['main']);
    assert.equal(normal.reporter.of('step-skip')[0]?.reason, 'on demand (run it with --only)');
    const only = await run(source, { only: 'diagnose' });
    assert.deepEqual(only.reporter.of('output').map((event) => event.text), ['diagnosis']);
  });
});
