import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { fence, runCli, writeRunbook } from '../../runner/test/helpers.ts';

describe('runbook CLI', () => {
  it('exits 2 with one positioned diagnostic a line and no stack trace for an invalid runbook', async () => {
    const file = await writeRunbook(`# A\n${fence}ts step timeout=forever\n${fence}\n${fence}ts verify\n${fence}\n# B\n${fence}ts rollback\n${fence}\n`);
    const { code, stderr, stdout } = await runCli(['run', file], { cwd: path.dirname(file) });
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.deepEqual(stderr.trim().split('\n').map((line) => line.replace(file, 'rb.md')), [
      'rb.md:2:12-2:27: Unexpected timeout `forever`, expected a duration such as `30s` or `2m` [attribute-value]',
      'rb.md:7:1-7:15: Unexpected `rollback` block with no step before it in its section, expected a `ts step` block above it [orphan-block]',
    ]);
  });

  it('reports a syntax error in a block at its runbook position', async () => {
    const file = await writeRunbook(`# A\n${fence}ts step\nconst x = ;\n${fence}\n`);
    const { code, stderr } = await runCli(['run', file]);
    assert.equal(code, 2);
    assert.match(stderr, /rb\.md:3:11-3:12: Unexpected syntax in `ts step` block: Expression expected\. \[block-syntax\]/);
    assert.doesNotMatch(stderr, /at .*\.ts:\d+/);
  });

  it('exits 2 for an unknown reporter, flag or target', async () => {
    const file = await writeRunbook(`# A\n${fence}ts step\n${fence}\n`);
    assert.equal((await runCli(['run', file, '--reporter', 'fancy'])).code, 2);
    assert.equal((await runCli(['run', file, '--bogus'])).code, 2);
    const target = await runCli(['run', file, '--target', 'prod']);
    assert.equal(target.code, 2);
    assert.match(target.stderr, /Unexpected target `prod`/);
    // plan validates its target exactly as run does.
    const plan = await runCli(['plan', file, '--target', 'prod']);
    assert.equal(plan.code, 2);
    assert.match(plan.stderr, /Unexpected target `prod`/);
  });

  it('runs to exit 0 with plain output when not on a terminal, and 1 when a step fails', async () => {
    const ok = await writeRunbook(`# A\n${fence}ts step\nconsole.log('hi')\n${fence}\n`);
    const passed = await runCli(['run', ok]);
    assert.equal(passed.code, 0, passed.stderr);
    assert.match(passed.stdout, /✔ a passed/);
    const bad = await writeRunbook(`# A\n${fence}ts step\nthrow new Error('nope')\n${fence}\n`);
    const failed = await runCli(['run', bad]);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /rb\.md:3:7: nope/);
  });

  // The unit tests run the sources, whose block thread requires the expect package; a run of the CLI requires the
  // one file of it bin/runbook.js builds. The same expect: its matchers, and a failed verify's diff.
  it("runs blocks with jest's expect whole: matchers, asymmetric matchers, extend, and a failed verify's diff", async () => {
    const file = await writeRunbook(
      [
        '# A',
        `${fence}ts step id=a`,
        "expect('hello world').toMatch(/world/)",
        "expect(() => { throw new TypeError('boom') }).toThrow(TypeError)",
        "expect({ n: 1, s: 'xyz' }).toEqual({ n: expect.any(Number), s: expect.stringContaining('y') })",
        "expect.extend({ toBeEven: (n) => ({ pass: n % 2 === 0, message: () => `${n} is odd` }) })",
        'expect(4).toBeEven()',
        'return { items: [1, 2, 3] }',
        fence,
        `${fence}ts verify`,
        'expect(result.value).toEqual({ items: [1, 2, 4] })',
        fence,
        '',
      ].join('\n'),
    );
    const { code, stdout } = await runCli(['run', file], { env: { FORCE_COLOR: '0' } });
    assert.equal(code, 1, stdout);
    assert.match(stdout, /rb\.md:11:\d+: expect\(received\)\.toEqual\(expected\) \/\/ deep equality/);
    assert.match(stdout, /- Expected\s+- 1\n\s*\+ Received\s+\+ 1/);
    assert.match(stdout, /-\s+4,\n\s*\+\s+3,/);
  });

  it('writes one JSON event per line with --reporter json', async () => {
    const file = await writeRunbook(`# A\n${fence}ts step\nconsole.log('hi')\n${fence}\n`);
    const { code, stdout } = await runCli(['run', file, '--reporter', 'json']);
    assert.equal(code, 0);
    const kinds = stdout.trim().split('\n').map((line) => (JSON.parse(line) as { kind: string }).kind);
    assert.deepEqual(kinds, ['run-begin', 'step-begin', 'block-begin', 'output', 'block-end', 'step-end', 'state', 'run-end']);
  });

  it('rolls back and exits 130 on SIGINT', async () => {
    const file = await writeRunbook(`# S1\n${fence}ts step\n${fence}\n${fence}ts rollback\nconsole.log('undo 1')\n${fence}\n# S2\n${fence}ts step\nconsole.log('waiting')\nawait sleep(10_000)\n${fence}\n`);
    let sent = false;
    const { code, stdout } = await runCli(['run', file], {
      onStdout: (text, child) => {
        if (!sent && text.includes('│ waiting')) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    assert.equal(code, 130);
    assert.match(stdout, /│ undo 1/);
  });

  it('plans without running, with lines and attributes', async () => {
    const file = await writeRunbook(`# A\n${fence}ts step id=a timeout=5s\nawait $\`ssh host true\`\n${fence}\n${fence}ts verify\n${fence}\n`);
    const { code, stdout } = await runCli(['plan', file, '--json']);
    assert.equal(code, 0);
    const plan = JSON.parse(stdout) as { steps: { id: string; role: string; line: number; attributes: Record<string, string>; touches: string[] }[] };
    assert.deepEqual(plan.steps.map((row) => [row.id, row.role, row.line]), [['a', 'step', 2], ['a', 'verify', 5]]);
    assert.deepEqual(plan.steps[0]?.attributes, { id: 'a', timeout: '5s' });
    assert.deepEqual(plan.steps[0]?.touches, ['cmd:ssh', 'host:vps']);
  });

  it('plans without loading what only a run needs: no zx, no expect, no sandbox', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'runbook-loaded-'));
    const hook = path.join(dir, 'hook.mjs');
    const out = path.join(dir, 'loaded.json');
    // Records the packages the CLI process loaded (CommonJS ones, which all of these are) as it exits.
    await writeFile(
      hook,
      [
        "import { createRequire } from 'node:module';",
        "import { writeFileSync } from 'node:fs';",
        'const cache = createRequire(import.meta.url).cache;',
        "process.on('exit', () => { if (process.argv[1]?.endsWith('runbook.js')) writeFileSync(process.env.LOADED_OUT, JSON.stringify(Object.keys(cache))); });",
      ].join('\n'),
    );
    const file = await writeRunbook(`# A\n${fence}ts step id=a\nawait $\`true\`\n${fence}\n`);
    const { code } = await runCli(['plan', file], { env: { NODE_OPTIONS: `--import=${pathToFileURL(hook).href}`, LOADED_OUT: out } });
    assert.equal(code, 0);
    // A package by its folder; expect also by the one file of it the CLI's bundle holds (bin/runbook.js).
    const packageOf = (loaded: string) => (loaded.includes('/.cache/runbook-cli/') ? path.basename(loaded, '.cjs') : loaded.split('node_modules/').pop()!.split('/')[0]);
    const packages = new Set((JSON.parse(await readFile(out, 'utf8')) as string[]).map(packageOf));
    assert.ok(packages.has('commander'), 'the record sees the packages the CLI does load');
    for (const unneeded of ['zx', 'expect', 'ssh2', 'node-forge', 'undici']) assert.ok(!packages.has(unneeded), `plan loaded ${unneeded}`);
  });

  it('reports resume of an unknown run id as an unknown run (exit 2), not as a file position', async () => {
    const dir = path.dirname(await writeRunbook('# x\n'));
    for (const id of ['2026-01-01T00-00-00-000-abcdef', '../../etc']) {
      const { code, stderr } = await runCli(['resume', id], { cwd: dir });
      assert.equal(code, 2, stderr);
      assert.equal(stderr.trim(), `runbook resume: unknown run \`${id}\`, expected the id of a run of this workspace (it has none)`);
    }
  });

  it('prints help and exits 0', async () => {
    const { code, stdout } = await runCli(['--help']);
    assert.equal(code, 0);
    assert.match(stdout, /run \[options\] \[file\]/);
  });

  it('passes the sandbox flags to its commands as typed options, and refuses malformed ones with 2', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'runbook-sandbox-flags-'));
    const status = await runCli(['sandbox', 'status', '--json', '--dir', dir]);
    assert.equal(status.code, 1);
    assert.deepEqual(JSON.parse(status.stdout), { running: false });
    const byDefault = await runCli(['sandbox', '--dir', dir]);
    assert.equal(byDefault.code, 1);
    assert.match(byDefault.stdout, /^sandbox not running$/m);
    assert.equal((await runCli(['sandbox', 'fault', 'token', '--count', 'two', '--dir', dir])).code, 2);
    const clock = await runCli(['sandbox', 'clock', 'rewind', '--dir', dir]);
    assert.equal(clock.code, 2);
    assert.match(clock.stderr, /^runbook sandbox clock: expected `clock` or `clock advance <duration>`$/m);
  });
});
