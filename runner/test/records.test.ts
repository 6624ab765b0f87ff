import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { EXIT } from '../../common/exit.ts';
import { lockKey } from '../lock/local.ts';
import { fence, runCli, testStateHome, writeRunbook } from './helpers.ts';

const CANARY = 'cAnArY-7f3e9b2d41-s3cr3t~value';

/** Every file under `dir`, recursively, as text. */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => readFileSync(path.join(entry.parentPath, entry.name), 'utf8'))
    .join('\n');
}

describe('secrets in every record', () => {
  it('never writes a marked secret, split or encoded, to stdout, stderr, the journal or any report', async () => {
    const file = await writeRunbook(
      [
        '# Capture',
        `${fence}ts step`,
        "const secret = (await secrets.read('secret.txt', 'GRAPH_SECRET')).trim()",
        "console.log('raw', secret)",
        "console.log('b64', Buffer.from(secret).toString('base64'))",
        "console.log('url', encodeURIComponent(secret))",
        'state.leak = secret',
        `await $\`printf '%s' \${secret.slice(0, 9)}; sleep 0.05; printf '%s\\n' \${secret.slice(9)}\``,
        'return secret',
        fence,
        `${fence}text expect`,
        'raw [secret:GRAPH_SECRET]',
        '...',
        fence,
        '# Fail',
        `${fence}ts step`,
        "throw new Error('bad secret ' + state.leak)",
        fence,
      ].join('\n'),
    );
    const dir = path.dirname(file);
    writeFileSync(path.join(dir, 'secret.txt'), `${CANARY}\n`, { mode: 0o600 });
    const out = path.join(dir, 'reports');
    const result = await runCli(['run', file, '--reporter', 'plain,junit,markdown,html', '--out', out], { cwd: dir });
    // One reporter on stdout per run: the other two in runs of their own.
    for (const reporter of ['json', 'github']) result.stdout += (await runCli(['run', file, '--reporter', reporter], { cwd: dir })).stdout;
    assert.equal(result.code, 1, result.stderr);
    // Every secret path ran: the first step passed (its output, value and state were recorded) and the second failed
    // with the secret in its error message.
    assert.match(result.stdout, /✔ capture passed/);
    assert.match(result.stdout, /bad secret \[secret:GRAPH_SECRET\]/);
    const journal = allText(path.join(dir, '.runbook', 'runs'));
    assert.match(journal, /"kind":"state","stepId":"capture","state":\{"leak":"\[secret:GRAPH_SECRET\]"\}/);
    const everything = [result.stdout, result.stderr, allText(path.join(dir, '.runbook', 'runs')), allText(out)].join('\n');
    assert.ok(everything.includes('[secret:GRAPH_SECRET]'));
    for (const form of [CANARY, Buffer.from(CANARY).toString('base64'), encodeURIComponent(CANARY)]) {
      assert.equal(everything.includes(form), false, `found ${form}`);
    }
  });
});

describe('journal and resume', () => {
  it('resumes after kill -9 mid-step: finished steps never run again, state is restored, the run completes', async () => {
    const file = await writeRunbook(
      [
        '# One',
        `${fence}ts step`,
        "await fs.appendFile('effects.log', 'one\\n')",
        "state.token = 'from-one'",
        fence,
        '# Two',
        `${fence}ts step`,
        "await fs.appendFile('effects.log', 'two\\n')",
        "console.log('two applied')",
        'await sleep(30_000)',
        fence,
        `${fence}ts verify`,
        "expect(await fs.readFile('effects.log', 'utf8')).toContain('two')",
        fence,
        '# Three',
        `${fence}ts step`,
        "expect(state.token).toBe('from-one')",
        "await fs.appendFile('effects.log', 'three\\n')",
        fence,
      ].join('\n'),
    );
    const dir = path.dirname(file);
    let killed = false;
    const first = await runCli(['run', file], {
      cwd: dir,
      onStdout: (text, child) => {
        if (!killed && text.includes('two applied')) {
          killed = true;
          child.kill('SIGKILL');
        }
      },
    });
    assert.equal(first.signal, 'SIGKILL');
    const resumed = await runCli(['resume'], { cwd: dir });
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.equal(readFileSync(path.join(dir, 'effects.log'), 'utf8'), 'one\ntwo\nthree\n');
    assert.match(resumed.stdout, /one skipped: completed before the interruption/);
    assert.match(resumed.stdout, /already took effect/);
    const again = await runCli(['resume'], { cwd: dir });
    assert.equal(again.code, 0);
    assert.match(again.stderr, /already ended \(passed\)/);
  });

  it('tolerates a torn last journal line', async () => {
    const file = await writeRunbook(`# A\n${fence}ts step\nawait fs.appendFile('n', 'x')\n${fence}\n# B\n${fence}ts step\n${fence}\n`);
    const dir = path.dirname(file);
    assert.equal((await runCli(['run', file], { cwd: dir })).code, 0);
    const runs = path.join(dir, '.runbook', 'runs');
    const [runId] = readdirSync(runs);
    const journal = path.join(runs, runId!, 'journal.jsonl');
    const lines = readFileSync(journal, 'utf8').trim().split('\n');
    // Cut the journal right after step A ended, mid-way through the next line.
    const cut = lines.findIndex((line) => line.includes('"kind":"state"'));
    writeFileSync(journal, `${lines.slice(0, cut + 1).join('\n')}\n{"kind":"step-be`);
    const resumed = await runCli(['resume', runId!], { cwd: dir });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(readFileSync(path.join(dir, 'n'), 'utf8'), 'x');
  });
});

describe('run lock', () => {
  it('refuses a second run of the document on the same target at once, from any working folder, naming the holder', async () => {
    const file = await writeRunbook(`# A\n${fence}ts step\nconsole.log('holding')\nawait sleep(20_000)\n${fence}\n`);
    const dir = path.dirname(file);
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'runbook-elsewhere-'));
    let second: Awaited<ReturnType<typeof runCli>> | undefined;
    await runCli(['run', file], {
      cwd: dir,
      onStdout: (text, child) => {
        if (!second && text.includes('holding')) {
          second = { code: -1, signal: null, stdout: '', stderr: '' };
          void runCli(['run', path.relative(elsewhere, file)], { cwd: elsewhere }).then((result) => {
            second = result;
            child.kill('SIGKILL');
          });
        }
      },
    });
    assert.equal(second?.code, EXIT.locked);
    assert.match(second?.stderr ?? '', /^runbook run: local-rb\.md-[0-9a-f]{12} is locked by run \S+ \(\S+, pid \d+ on \S+, since /m);
  });

  it('takes over a lock whose holder is gone', async () => {
    const file = await writeRunbook(`# A\n${fence}ts step\n${fence}\n`);
    const dir = path.dirname(file);
    const first = await runCli(['run', file], { cwd: dir });
    assert.equal(first.code, 0);
    const locks = path.join(testStateHome(), 'runbook', 'locks');
    mkdirSync(locks, { recursive: true });
    // A lock left by a crashed run: a pid that cannot exist.
    const name = `${lockKey(undefined, file)}.lock`;
    writeFileSync(path.join(locks, name), JSON.stringify({ pid: 2 ** 22 + 7, host: os.hostname(), runId: 'crashed', since: '2026-01-01' }));
    const second = await runCli(['run', file], { cwd: dir });
    assert.equal(second.code, 0, second.stderr);
  });
});

describe('the journal as evidence', () => {
  /**
   * A runbook whose second step forges journal lines (`forger`: the lines of its block, after `journal` names the
   * run's journal, made writable: it is read-only, and a deliberate forger makes it writable; root needs not) and
   * whose third step leaves a file behind, so a resume that believed the forgery shows.
   */
  const forgingRunbook = (forger: string[]) =>
    writeRunbook(
      [
        '# One',
        `${fence}ts step`,
        fence,
        '# Two',
        `${fence}ts step`,
        "const runs = path.join(process.cwd(), '.runbook', 'runs')",
        'const [id] = await fs.readdir(runs)',
        "const journal = path.join(runs, id, 'journal.jsonl')",
        'await fs.chmod(journal, 0o600)',
        ...forger,
        fence,
        '# Three',
        `${fence}ts step`,
        "await fs.writeFile('three-ran', 'x')",
        fence,
      ].join('\n'),
    );

  it('sees a forged line a block appends, fails the run, and resume and audit refuse the broken chain', async () => {
    // A forger who knows the format and even computes the right link: the runner still chains from its own line.
    const file = await forgingRunbook([
      "const last = (await fs.readFile(journal, 'utf8')).trim().split('\\n').at(-1)",
      "const prev = (await import('node:crypto')).createHash('sha256').update(last).digest('hex')",
      "await fs.appendFile(journal, JSON.stringify({ prev, event: { kind: 'step-end', stepId: 'three', status: 'passed', durationMs: 1 } }) + '\\n')",
    ]);
    const dir = path.dirname(file);
    const run = await runCli(['run', file], { cwd: dir });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /^error: the journal of run \S+ was appended to by something other than the runner \(\d+ bytes\)/m);
    const [runId] = readdirSync(path.join(dir, '.runbook', 'runs'));
    const resumed = await runCli(['resume', runId!], { cwd: dir });
    assert.equal(resumed.code, 1);
    // The forged line is caught itself (it has no seal), before the runner's next line would break the link.
    assert.match(resumed.stderr, /journal\.jsonl:\d+:1: Unexpected line without the runner's seal, expected the key committed to by the line before \(a `step-end` line written by something other than the runner\) \[journal-chain\]\n/);
    assert.match(resumed.stderr, /refusing to resume from a broken journal/);
    const audit = await runCli(['audit', runId!], { cwd: dir });
    assert.equal(audit.code, 1);
    assert.match(audit.stdout, /^journal: chain broken at line \d+; the record above stops there$/m);
  });

  /** Runs the forging runbook (whose forger kills the runner), then resume: refused, and step three never ran. */
  async function killedForgery(forger: string[]) {
    const file = await forgingRunbook([...forger, "process.kill(process.pid, 'SIGKILL')"]);
    const dir = path.dirname(file);
    const run = await runCli(['run', file], { cwd: dir });
    assert.equal(run.signal, 'SIGKILL');
    const resumed = await runCli(['resume'], { cwd: dir });
    assert.equal(resumed.code, 1, resumed.stdout + resumed.stderr);
    assert.equal(readdirSync(dir).includes('three-ran'), false);
    return { dir, resumed };
  }

  it('refuses to resume after a block appended a line and the run was killed before the runner wrote again', async () => {
    const { resumed } = await killedForgery([
      "await fs.appendFile(journal, JSON.stringify({ kind: 'step-end', stepId: 'two', status: 'passed', durationMs: 1 }) + '\\n')",
    ]);
    assert.match(resumed.stderr, /journal\.jsonl:\d+:1: Unexpected link no digest, expected `[0-9a-f]{12}…` \(the digest of the line before\) \[journal-chain\]/);
  });

  it('refuses to resume after a block appended a correctly linked line and killed the run before the runner wrote again', async () => {
    // Everything a line of the runner has that a reader of the journal can copy: the link to the line before, and a
    // seal (the last line's commitment, as good a guess as any). The key that would open the commitment lives only in
    // the runner's memory.
    // The runner writes this block's begin in a turn of its own: the forger waits for it to be the last line (the
    // file is its only channel from the runner: it watches it), or its link would break first and the seal would go
    // untested.
    const { dir, resumed } = await killedForgery([
      "const lastLine = async () => (await fs.readFile(journal, 'utf8')).trim().split('\\n').at(-1)",
      "const { watch } = await import('node:fs')",
      'const last = await new Promise((resolve) => {',
      "  const check = async () => { const line = await lastLine(); if (line.includes('\"block-begin\"')) { watcher.close(); resolve(line) } }",
      '  const watcher = watch(journal, () => void check())',
      '  void check()',
      '})',
      "const { createHash, randomBytes } = await import('node:crypto')",
      "const prev = createHash('sha256').update(last).digest('hex')",
      "const line = { prev, seal: JSON.parse(last).next, next: createHash('sha256').update(randomBytes(32)).digest('hex'), event: { kind: 'step-end', stepId: 'two', status: 'passed', durationMs: 1 } }",
      "await fs.appendFile(journal, JSON.stringify(line) + '\\n')",
    ]);
    assert.match(resumed.stderr, /journal\.jsonl:\d+:1: Unexpected seal that does not open the runner's last commitment, expected the key committed to by the line before \(a `step-end` line written by something other than the runner\) \[journal-chain\]/);
    const [runId] = readdirSync(path.join(dir, '.runbook', 'runs'));
    const audit = await runCli(['audit', runId!], { cwd: dir });
    assert.equal(audit.code, 1);
  });

  it('prints the record of an intact run and verifies its chain', async () => {
    const file = await writeRunbook(`# A\n${fence}ts step confirm\nconsole.log('did a')\n${fence}\n${fence}ts verify\nexpect(result.stdout).toContain('a')\n${fence}\n`);
    const dir = path.dirname(file);
    assert.equal((await runCli(['run', file, '--yes'], { cwd: dir })).code, 0);
    const [runId] = readdirSync(path.join(dir, '.runbook', 'runs'));
    const audit = await runCli(['audit', runId!], { cwd: dir });
    assert.equal(audit.code, 0, audit.stderr);
    const lines = audit.stdout.trim().split('\n');
    assert.match(lines[0]!, new RegExp(`^run ${runId} on target local$`));
    assert.match(lines[1]!, /^operator: \S+.* \(identified by OS user.*\) on \S+, runbook \d+\.\d+\.\d+ \(node v/);
    assert.match(lines[2]!, /^document: \S+rb\.md sha256 [0-9a-f]{64}$/);
    assert.match(lines[3]!, /^started \S+; passed \(exit 0\) in \d+ms: 1 passed, 0 failed, 0 skipped, 0 not reached$/);
    assert.match(lines[4]!, /^✔ a passed · started \S+ · \d+ms$/);
    assert.equal(lines[5], '    ? confirm yes, answered by --yes at ' + lines[5]!.split(' at ').at(-1));
    assert.match(lines[6]!, /^ {4}✔ a passed · started/);
    assert.match(lines[7]!, /^ {4}✔ a\/verify-1 passed · started/);
    assert.match(lines.at(-1)!, /^journal: \d+ lines, every one chained to the one before \(sha256\) and sealed by the runner that wrote it \(the run\)$/);
  });
});
