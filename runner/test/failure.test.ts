import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { readJournal } from '../journal/journal.ts';
import { isAlive } from '../../common/pid.ts';
import { fence, runCli, waitFor, writeRunbook } from './helpers.ts';

/** A step section: its block appends `do NAME` to `log`, its rollback `undo NAME`; `body` runs after the append. */
function section(name: string, options: { attributes?: string; body?: string; rollback?: string } = {}): string {
  const rollback = options.rollback ?? `await fs.appendFile('log', 'undo ${name}\\n')`;
  return [
    `# ${name}`,
    `${fence}ts step id=${name}${options.attributes ? ` ${options.attributes}` : ''}`,
    `await fs.appendFile('log', 'do ${name}\\n')`,
    ...(options.body ? [options.body] : []),
    fence,
    ...(rollback === 'none' ? [] : [`${fence}ts rollback`, rollback, fence]),
    '',
  ].join('\n');
}

async function fixture(...sections: string[]): Promise<{ file: string; dir: string; log: () => string[] }> {
  const file = await writeRunbook(sections.join('\n'));
  const dir = path.dirname(file);
  const log = () => {
    try {
      return readFileSync(path.join(dir, 'log'), 'utf8').trim().split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  return { file, dir, log };
}

function journalOf(dir: string, runId?: string) {
  const runs = path.join(dir, '.runbook', 'runs');
  return readJournal(path.join(runs, runId ?? readdirSync(runs).sort().at(-1)!));
}

/** Fails until a file named `fixed` exists: the cause an operator fixes before resuming. */
const failsUntilFixed = "if (!(await fs.pathExists('fixed'))) throw new Error('token request failed: 401')";

describe('the point of no return', () => {
  it('never runs an earlier rollback once an irreversible step took effect; says what is in service and what to run', async () => {
    const { file, dir, log } = await fixture(
      section('create'),
      section('delete-old', { attributes: 'irreversible rollback=none reason="gone for good"', rollback: 'none' }),
      section('check', { body: failsUntilFixed }),
    );
    const run = await runCli(['run', file], { cwd: dir });
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(log(), ['do create', 'do delete-old', 'do check', 'undo check']);
    const { events, meta } = journalOf(dir);
    const fix = events.find((event) => event.kind === 'forward-fix');
    assert.ok(fix && fix.kind === 'forward-fix');
    assert.deepEqual(fix.inService, ['create', 'delete-old']);
    assert.match(run.stdout, /forward fix needed: delete-old \(line \d+\) is irreversible and took effect/);
    assert.match(run.stdout, /In service: what create, delete-old did \(up to delete-old, line \d+\); rolled back: check\./);
    assert.match(run.stdout, new RegExp(`Next: fix the cause, then \`runbook resume ${meta.runId}\``));

    writeFileSync(path.join(dir, 'fixed'), '');
    const resumed = await runCli(['resume'], { cwd: dir });
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.deepEqual(log(), ['do create', 'do delete-old', 'do check', 'undo check', 'do check']);
  });

  it('treats an irreversible step that began as taken effect, even when it failed', async () => {
    const { file, dir, log } = await fixture(section('create'), section('delete-old', { attributes: 'irreversible rollback=none reason="gone"', rollback: 'none', body: "throw new Error('half-way')" }));
    const run = await runCli(['run', file], { cwd: dir });
    assert.equal(run.code, 1);
    assert.deepEqual(log(), ['do create', 'do delete-old']);
    assert.match(run.stdout, /forward fix needed/);
  });
});

describe('a rollback that refuses', () => {
  it('stops the remaining rollbacks and ends with the forward-fix message; resume goes forward from what was undone', async () => {
    const { file, dir, log } = await fixture(
      section('one'),
      section('two', { rollback: "await fs.appendFile('log', 'refuse two\\n'); refuse('this would remove the last valid credential')" }),
      section('three'),
      section('four', { body: failsUntilFixed }),
    );
    const run = await runCli(['run', file], { cwd: dir });
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(log(), ['do one', 'do two', 'do three', 'do four', 'undo four', 'undo three', 'refuse two']);
    assert.match(run.stdout, /the rollback of two refused: this would remove the last valid credential; the earlier rollbacks were not run/);
    assert.match(run.stdout, /In service: what one, two did \(up to two, line \d+\); rolled back: four, three\./);

    writeFileSync(path.join(dir, 'fixed'), '');
    const resumed = await runCli(['resume'], { cwd: dir });
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
    assert.deepEqual(log().slice(7), ['do three', 'do four']);
  });
});

describe('retries of a step with a rollback', () => {
  it('run the rollback between attempts', async () => {
    const { file, dir, log } = await fixture(section('flaky', { attributes: 'retries=2 retry-delay=10ms', body: "state.n = (state.n ?? 0) + 1\nif (state.n < 3) throw new Error('flaky')" }));
    const run = await runCli(['run', file], { cwd: dir });
    assert.equal(run.code, 0, run.stdout);
    assert.deepEqual(log(), ['do flaky', 'undo flaky', 'do flaky', 'undo flaky', 'do flaky']);
  });
});

describe('resume', () => {
  it('continues a rollback cut short by kill -9, newest first, and never goes forward', async () => {
    const { file, dir, log } = await fixture(
      section('one'),
      section('two', { rollback: "await fs.appendFile('log', 'undo two\\n'); console.log('undoing two'); await $`sleep 30`" }),
      section('three', { body: "throw new Error('broken')" }),
      section('four'),
    );
    let killed = false;
    const first = await runCli(['run', file], {
      cwd: dir,
      onStdout: (text, child) => {
        if (!killed && text.includes('undoing two')) {
          killed = true;
          child.kill('SIGKILL');
        }
      },
    });
    assert.equal(first.signal, 'SIGKILL');
    assert.deepEqual(log(), ['do one', 'do two', 'do three', 'undo three', 'undo two']);

    // The rollback of two runs again (it never finished), so it must not sleep this time.
    writeFileSync(file, readFileSync(file, 'utf8').replace('await $`sleep 30`', ''));
    const resumed = await runCli(['resume'], { cwd: dir });
    assert.equal(resumed.code, 1, resumed.stdout + resumed.stderr);
    assert.deepEqual(log(), ['do one', 'do two', 'do three', 'undo three', 'undo two', 'undo two', 'undo one']);
    assert.match(resumed.stdout, /resuming the rollbacks this run had begun: two \(line \d+\), one \(line \d+\)/);

    const again = await runCli(['resume'], { cwd: dir });
    assert.match(again.stderr, /already ended/);
    assert.equal(log().length, 7);
  });

  it('refuses a run that is not the latest on its target, naming the newer run (exit 2)', async () => {
    const { file, dir } = await fixture(section('one', { body: "console.log('holding'); await $`sleep 30`" }));
    let killed = false;
    await runCli(['run', file], {
      cwd: dir,
      onStdout: (text, child) => {
        if (!killed && text.includes('holding')) {
          killed = true;
          child.kill('SIGKILL');
        }
      },
    });
    const old = journalOf(dir).meta.runId;
    writeFileSync(file, readFileSync(file, 'utf8').replace("console.log('holding'); await $`sleep 30`", ''));
    const newer = await runCli(['run', file], { cwd: dir });
    assert.equal(newer.code, 0, newer.stderr);
    const newerId = journalOf(dir).meta.runId;
    const stale = await runCli(['resume', old], { cwd: dir });
    assert.equal(stale.code, 2);
    assert.match(stale.stderr, new RegExp(`Unexpected resume of run ${old}, expected the latest run on target local: run ${newerId} started after it.*\\[stale-run\\]`));
  });
});

describe('interrupts', () => {
  it('a second Ctrl-C during the rollbacks names those left and exits 130; resume does them', async () => {
    const { file, dir, log } = await fixture(
      section('one'),
      section('two', { rollback: "await fs.appendFile('log', 'undo two\\n'); console.log('undoing two'); await $`sleep 30`" }),
      section('three', { body: "console.log('waiting'); await $`sleep 30`" }),
    );
    let signals = 0;
    const run = await runCli(['run', file], {
      cwd: dir,
      onStdout: (text, child) => {
        if (signals === 0 && text.includes('│ waiting')) {
          signals = 1;
          child.kill('SIGINT');
        } else if (signals === 1 && text.includes('│ undoing two')) {
          signals = 2;
          child.kill('SIGINT');
        }
      },
    });
    assert.equal(run.code, 130, run.stdout + run.stderr);
    assert.match(run.stdout, /stopped during the rollbacks; still to do, newest first: two \(line \d+\), one \(line \d+\)\. `runbook resume \S+` does them/);
    assert.deepEqual(log(), ['do one', 'do two', 'do three', 'undo three', 'undo two']);

    writeFileSync(file, readFileSync(file, 'utf8').replace("console.log('undoing two'); await $`sleep 30`", ''));
    const resumed = await runCli(['resume'], { cwd: dir });
    assert.equal(resumed.code, 130, resumed.stdout + resumed.stderr);
    assert.deepEqual(log().slice(5), ['undo two', 'undo one']);
  });
});

describe('cancellation that stops', () => {
  it('a timeout stops the block, a spinning one included, before its rollback starts; the rollback sees the state it set', async () => {
    const { file, dir, log } = await fixture(
      section('spin', { attributes: 'timeout=500ms', body: "state.backup = 'b1'\nfor (;;) {}", rollback: "await fs.appendFile('log', `undo spin ${state.backup}\\n`)" }),
    );
    const run = await runCli(['run', file], { cwd: dir });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /Unexpected step still running after 0\.5s/);
    assert.deepEqual(log(), ['do spin', 'undo spin b1']);
  });

  it('nothing a timed-out block had pending acts after it was stopped', async () => {
    const { file, dir, log } = await fixture(
      [
        '# slow',
        `${fence}ts step id=slow timeout=300ms`,
        "await fs.appendFile('log', 'do slow\\n')",
        // Time itself is under test: the block must be stopped at its 300 ms timeout, before this late write.
        "await sleep(1500); await fs.appendFile('log', 'late\\n')",
        fence,
        // Time itself again: a write that must never come cannot be awaited, so the rollback outlasts the moment it
        // would have come (1.5 s after the block began) before it writes its own line.
        `${fence}ts rollback timeout=10s`,
        "await sleep(2500); await fs.appendFile('log', 'undo slow\\n')",
        fence,
      ].join('\n'),
    );
    const run = await runCli(['run', file], { cwd: dir });
    assert.equal(run.code, 1);
    assert.deepEqual(log(), ['do slow', 'undo slow']);
  });

  it("Ctrl-C stops the block's commands, their whole process trees and background jobs, within 1 s and before the rollback", async () => {
    const { file, dir, log } = await fixture(
      section('tree', {
        body: "await $`sleep 60 > /dev/null 2>&1 & echo $! > bg.pid; echo $$ > sh.pid; echo started; sleep 60`",
        // A killed background job is an orphan until reaped, and the PID 1 of a container may reap orphans late
        // (about a second on this project's CI machine): `kill -0` succeeds on such a zombie, so the job's state is
        // read instead. A zombie has stopped; anything else is still running.
        rollback:
          "await fs.appendFile('log', 'undo tree ' + ((await $`s=$(ps -o stat= -p $(cat bg.pid)) || true; case \"$s\" in ''|Z*) echo gone;; *) echo alive;; esac`).stdout.trim()) + '\\n')",
      }),
    );
    let signalled = 0;
    let rollbackSeen = 0;
    const run = await runCli(['run', file], {
      cwd: dir,
      onStdout: (text, child) => {
        if (!signalled && text.includes('│ started')) {
          signalled = performance.now();
          child.kill('SIGINT');
        }
        // The step ends (interrupted) once its block is stopped: the rollback comes after, in a fresh thread.
        if (signalled && !rollbackSeen && /■ tree/.test(text)) rollbackSeen = performance.now();
      },
    });
    assert.equal(run.code, 130, run.stdout + run.stderr);
    assert.ok(rollbackSeen > 0, 'the step never ended as interrupted');
    assert.ok(rollbackSeen - signalled < 1000, `the block was stopped ${Math.round(rollbackSeen - signalled)} ms after Ctrl-C`);
    // The rollback ran once the background job was gone.
    assert.deepEqual(log(), ['do tree', 'undo tree gone']);
    for (const name of ['bg.pid', 'sh.pid']) {
      const pid = Number(readFileSync(path.join(dir, name), 'utf8'));
      assert.equal(isAlive(pid), false, `${name} ${pid} still alive`);
    }
  });
});

describe('a block cannot crash the runner', () => {
  const cases: [string, string, RegExp][] = [
    ['process.exit(0)', 'process.exit(0)', /Unexpected process\.exit\(0\) in a step block/],
    // The block then waits on a promise that never settles: only the crash can end it (or, were it missed, the
    // step's timeout, whose message the case does not accept).
    ['an unhandled rejection', "void Promise.reject(new Error('lost promise'))\nawait new Promise(() => {})", /lost promise/],
    ['a throwing timer', "setTimeout(() => { throw new Error('timer threw') }, 10)\nawait new Promise(() => {})", /timer threw/],
    ['a BigInt value', 'return 10n', /the value step s returned cannot be recorded in the journal: .*BigInt/],
    ['a cycle in the state', 'const a = {}\na.self = a\nstate.loop = a', /the shared state cannot be recorded in the journal: .*circular/],
  ];
  for (const [name, body, message] of cases) {
    it(`${name} fails the step (exit 1, its rollback runs), never exits 0, never leaves the lock`, async () => {
      const { file, dir, log } = await fixture(section('s', { body, attributes: 'timeout=30s' }));
      // The lock lives in the user's state folder: this run's own, to read back.
      const run = await runCli(['run', file], { cwd: dir, env: { XDG_STATE_HOME: path.join(dir, 'state') } });
      assert.equal(run.code, 1, run.stdout + run.stderr);
      assert.match(run.stdout, message);
      assert.doesNotMatch(run.stderr, /internal error|at .*node:internal/);
      assert.deepEqual(log(), ['do s', 'undo s']);
      const locks = path.join(dir, 'state', 'runbook', 'locks');
      assert.ok(existsSync(locks), 'the run took its lock there');
      assert.deepEqual(readdirSync(locks).filter((name) => name.endsWith('.lock')), []);
    });
  }

  it('an EPIPE in a secrets command is judged by the exit code, not a crash', async () => {
    const { file, dir, log } = await fixture(
      section('pipe', { body: "await secrets.toCommand('exec 0<&-; exit 0', 'x'.repeat(1 << 20))\nconsole.log(await secrets.fromCommand('exec 0<&-; echo piped-value-1234', 'PIPED'))" }),
    );
    const run = await runCli(['run', file], { cwd: dir });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /│ \[secret:PIPED\]/);
    assert.deepEqual(log(), ['do pipe']);
  });

  it('output a block writes straight to process.stdout is captured and redacted', async () => {
    const { file, dir } = await fixture(section('raw', { body: "const v = secrets.mark('TOKEN', ['sup3r', 's3cret', 'value'].join('-'))\nprocess.stdout.write(`raw ${v}\\n`)\nprocess.stderr.write('to stderr\\n')" }));
    const run = await runCli(['run', file, '--reporter', 'json'], { cwd: dir });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(`${run.stdout}${run.stderr}`.includes('sup3r-s3cret-value'), false);
    const outputs = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { kind: string; stream?: string; text?: string }).filter((event) => event.kind === 'output');
    assert.deepEqual(outputs.map((event) => [event.stream, event.text]), [['stdout', 'raw [secret:TOKEN]'], ['stderr', 'to stderr']]);
  });
});

describe('the end of a run', () => {
  it('takes down a command a block left running as the process leaves, without waiting on it', async () => {
    // The command writes its own pid and says so through a FIFO (the step's `cat` returns once it has), then becomes
    // `sleep` (same pid); the step returns without awaiting it.
    const { file, dir } = await fixture(
      section('left', {
        body: "await $`mkfifo left.ready`\nvoid $`echo $$ > left.pid; echo > left.ready; exec sleep 60`.nothrow()\nawait $`cat left.ready`",
        rollback: 'none',
      }),
    );
    const run = await runCli(['run', file], { cwd: dir });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const pid = Number(readFileSync(path.join(dir, 'left.pid'), 'utf8'));
    assert.ok(pid > 0);
    await waitFor(`command ${pid} to be taken down with the run`, () => (isAlive(pid) ? undefined : true), 5000);
  });
});
