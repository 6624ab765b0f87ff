import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { $, type Shell } from 'zx';
import { isAlive } from '../pid.ts';
import { eventually, waitFor } from '../testing.ts';
import { processState, startTime } from '../process-identity.mjs';
import { repoPath } from '../repo.ts';
import { createSpawner as createSpawnerOf, type HostKind, type SpawnerOptions } from './spawner.ts';

/** Each host implementation this machine can run (spawner.ts): every case holds for both. */
const kinds: HostKind[] = process.platform === 'linux' && existsSync('/usr/bin/python3') ? ['python', 'node'] : ['node'];

for (const kind of kinds) {
const createSpawner = (options: SpawnerOptions = {}) => createSpawnerOf({ host: kind, ...options });
const spawner = createSpawner();
after(() => spawner.close());
const sh = $({ spawn: spawner.spawn, quiet: true });

/** A spawner of the test's own (its hosts and shells are the test's to inspect and kill), closed after it. */
async function withWarmSpawner(body: (warm: typeof sh) => Promise<void>): Promise<void> {
  const local = createSpawner();
  try {
    await body($({ spawn: local.spawn, quiet: true }));
  } finally {
    local.close();
  }
}

describe(`spawner (commands started from the small ${kind} host process)`, () => {
  it('returns stdout, stderr and the exit code as zx expects', async () => {
    const ok = await sh`echo out; echo err >&2`;
    assert.equal(ok.stdout, 'out\n');
    assert.equal(ok.stderr, 'err\n');
    assert.equal(ok.exitCode, 0);
    const failed = await sh`exit 3`.nothrow();
    assert.equal(failed.exitCode, 3);
    await assert.rejects(sh`exit 4`, (error: { exitCode?: number }) => error.exitCode === 4);
  });

  it('passes input to the command', async () => {
    const output = await sh({ input: 'line one\nline two\n' })`wc -l`;
    assert.equal(output.stdout.trim(), '2');
  });

  it('passes large input completely, past what a pipe holds, to a command that reads it slowly', { timeout: 20_000 }, async () => {
    const input = Array.from({ length: 200_000 }, (_, index) => `${index}\n`).join('');
    const output = await sh({ input })`sleep 0.2; wc -c`;
    assert.equal(output.stdout, `${Buffer.byteLength(input)}\n`);
  });

  it('streams large output completely and in order', async () => {
    const output = await sh`seq 1 100000`;
    const lines = output.stdout.trim().split('\n');
    assert.equal(lines.length, 100000);
    assert.equal(lines[0], '1');
    assert.equal(lines.at(-1), '100000');
  });

  it('runs in the given cwd and env', async () => {
    const output = await $({ spawn: spawner.spawn, quiet: true, cwd: '/tmp', env: { ...process.env, MARKER: 'm-42' } })`pwd; echo $MARKER`;
    assert.equal(output.stdout, '/tmp\nm-42\n');
  });

  it('keeps stdout and stderr each in order, however the host batches them', async () => {
    const output = await sh`for i in $(seq 1 50); do echo "out $i"; echo "err $i" >&2; done`;
    assert.deepEqual(output.stdout.trim().split('\n'), Array.from({ length: 50 }, (_, i) => `out ${i + 1}`));
    assert.deepEqual(output.stderr.trim().split('\n'), Array.from({ length: 50 }, (_, i) => `err ${i + 1}`));
  });

  it('streams the output of a long command as it comes, not only at its end', async () => {
    const pending = sh`echo first; sleep 1; echo second`;
    const started = Date.now();
    const first = await new Promise<string>((resolve) => pending.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    assert.equal(first, 'first\n');
    assert.ok(Date.now() - started < 800, 'the first line arrived only with the end of the command');
    await pending;
  });

  it('fails a command that cannot start instead of waiting for it', async () => {
    // Node refuses a NUL in the environment before starting anything; the command must fail, not hang.
    const code = (expected: string) => (error: { cause?: { code?: string } }) => error.cause?.code === expected;
    await assert.rejects($({ spawn: spawner.spawn, quiet: true, env: { ...process.env, BAD: 'a\0b' } })`true`, code('ERR_INVALID_ARG_VALUE'));
    await assert.rejects($({ spawn: spawner.spawn, quiet: true, cwd: '/no/such/folder' })`true`, code('ENOENT'));
  });

  it('kills the command when the abort signal fires', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = $({ spawn: spawner.spawn, quiet: true, signal: controller.signal })`echo $$; sleep 30`;
    const pid = await firstLine(pending);
    controller.abort();
    await assert.rejects(pending);
    assert.ok(Date.now() - started < 5000);
    assert.equal(await gone(pid), true);
  });

  it('boots its second host only when a second command comes', async () => {
    const hostsOf = async () => (await $({ quiet: true, nothrow: true })`pgrep -P ${process.pid} -f spawn-host`).stdout.split('\n').filter(Boolean);
    const before = new Set(await hostsOf());
    const local = createSpawner();
    try {
      local.warm();
      const shell = $({ spawn: local.spawn, quiet: true });
      await shell`true`;
      assert.equal((await hostsOf()).filter((pid) => !before.has(pid)).length, 1);
      await shell`true`;
      assert.equal((await hostsOf()).filter((pid) => !before.has(pid)).length, 2);
    } finally {
      local.close();
    }
  });

  it('boots its hosts without the extra CA bundle, and gives every command the environment it would have had', async () => {
    const before = process.env['NODE_EXTRA_CA_CERTS'];
    process.env['NODE_EXTRA_CA_CERTS'] = '/nonexistent/extra-ca.pem';
    const local = createSpawner();
    try {
      const hosts = await warmShellsOf($({ spawn: local.spawn, quiet: true }));
      for (const host of hosts) {
        const hostEnv = readFileSync(`/proc/${host}/environ`, 'utf8').split('\0');
        assert.equal(hostEnv.some((entry) => entry.startsWith('NODE_EXTRA_CA_CERTS=')), false, 'a host booted with the CA bundle');
      }
      // No env option: the command gets this process's environment, not the host's.
      const child = local.spawn('sh', ['-c', 'echo "$PPID $NODE_EXTRA_CA_CERTS"'], {});
      const output = await new Promise<string>((resolve) => {
        let text = '';
        child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()));
        child.once('close', () => resolve(text));
      });
      const [parent, ca] = output.trim().split(' ');
      assert.ok(hosts.includes(parent!), 'ran from a host');
      assert.equal(ca, '/nonexistent/extra-ca.pem');
    } finally {
      local.close();
      if (before === undefined) delete process.env['NODE_EXTRA_CA_CERTS'];
      else process.env['NODE_EXTRA_CA_CERTS'] = before;
    }
  });

  it('tells each command\'s pid with the start time of its process, fresh shell or warm', async () => {
    const heard = new Map<number, string | undefined>();
    const local = createSpawner({ onPid: (pid, started) => heard.set(pid, started) });
    try {
      const warm = $({ spawn: local.spawn, quiet: true });
      await warmShellsOf(warm);
      for (const shell of [warm, warm({ cwd: '/' })]) {
        const pending = shell`echo $$; sleep 30`.nothrow();
        const pid = await firstLine(pending);
        await waitFor('the pid heard', () => heard.has(pid), 3000);
        assert.equal(heard.get(pid), startTime(pid));
        assert.match(heard.get(pid)!, /^\d+$/);
        pending.kill('SIGKILL');
        await pending;
      }
    } finally {
      local.close();
    }
  });

  it('gives each command the environment it asks for, sent again only when it changed (in place too)', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, STEP: 'one' };
    const shell = $({ spawn: spawner.spawn, quiet: true, env });
    const other = $({ spawn: spawner.spawn, quiet: true, env: { ...process.env, STEP: 'other' } });
    const seen: string[] = [];
    // Each round reaches both hosts (they take turns), so each sees every change.
    for (const step of ['one', 'one', 'two', 'two']) {
      env['STEP'] = step;
      seen.push((await shell`echo $STEP`).stdout.trim(), (await shell`echo $STEP`).stdout.trim(), (await other`echo $STEP`).stdout.trim());
    }
    delete env['STEP'];
    seen.push((await shell`echo "[\${STEP:-}]"`).stdout.trim(), (await shell`echo "[\${STEP:-}]"`).stdout.trim());
    assert.deepEqual(seen, ['one', 'one', 'other', 'one', 'one', 'other', 'two', 'two', 'other', 'two', 'two', 'other', '[]', '[]']);
  });

  it('leaves quietly when its runner is gone before it could say it is ready', async () => {
    // The race seen in CI: the runner's thread ends while a host boots, and the channel closes after the host's last
    // look at it. The host is held at that moment while the runner's end closes; then it says it is ready, into a
    // pipe with no reader: a real EPIPE from the kernel. It must leave as on a disconnect, without a stack trace on the
    // operator's terminal.
    const host = kind === 'node' ? nodeHostHeldWhileLoading() : pythonHostHeldAtStart();
    let stderr = '';
    host.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => host.once('exit', (code) => resolve(code)));
    await waitFor('the host held', () => processState(host.pid!) === 'T', 10_000);
    const disconnected = new Promise((resolve) => host.once('disconnect', resolve));
    host.disconnect();
    await disconnected;
    process.kill(host.pid!, 'SIGCONT');
    assert.equal(await exited, 0, `the host crashed: ${stderr}`);
    assert.equal(stderr, '');
  });

  it("takes a finished command's background job down with it when closed (its process group outlives the shell)", async () => {
    const local = createSpawner();
    // The shell exits at once; the job holds the output open, so the command is not over, and its group has no leader.
    const pending = $({ spawn: local.spawn, quiet: true, nothrow: true, detached: true })`sleep 30 & echo $!`;
    const job = await firstLine(pending);
    local.close();
    await pending;
    assert.equal(await gone(job), true);
  });

  it('takes running commands down with it when closed', async () => {
    const local = createSpawner();
    const pending = $({ spawn: local.spawn, quiet: true, nothrow: true })`echo $$; sleep 30`;
    const pid = await firstLine(pending);
    local.close();
    const output = await pending;
    assert.notEqual(output.exitCode, 0);
    assert.equal(await gone(pid), true);
  });
});

describe(`warm shells (the next shell is started ahead of the next command; ${kind} host)`, () => {
  /** The command line of the shell that ran a command: a warm shell's is its boot line, not the script. */
  const shellOf = async (shell: typeof sh) => (await shell`tr '\\0' ' ' < /proc/$$/cmdline`).stdout;

  it('runs commands after the first in a shell started ahead of them', () =>
    withWarmSpawner(async (warm) => {
      const hosts = await warmShellsOf(warm);
      const shell = (await warm`echo $PPID; tr '\\0' ' ' < /proc/$$/cmdline`).stdout.split('\n');
      assert.ok(hosts.includes(shell[0]!), 'ran from a host');
      assert.match(shell[1]!, /read -r -d "" __runbook_script <&\d+/);
    }));

  it('passes every environment variable through, whatever its name, to a warm shell', () =>
    withWarmSpawner(async (warm) => {
      const named = warm({ env: { ...process.env, script: 'kept', REPLY: 'kept too' } });
      // Every host runs one command with this environment, then has a warm shell for it ready.
      await warmShellsOf(named);
      const output = (await named`echo "$script / $REPLY"; tr '\\0' ' ' < /proc/$$/cmdline`).stdout.split('\n');
      assert.match(output[1]!, /read -r -d "" __runbook_script <&\d+/, 'the command ran in a fresh shell, not a warm one');
      assert.equal(output[0], 'kept / kept too');
    }));

  it("never reads the operator's ~/.bashrc, in a fresh or a warm shell, when the runner has no SHLVL (CI, cron, systemd)", () =>
    withWarmSpawner(async (warm) => {
      // bash reads ~/.bashrc for a top-level non-interactive shell whose stdin is a socket (it takes it for sshd's);
      // Node's pipes are socket pairs. Seen from outside: every command of a run started by CI printed this line.
      const home = mkdtempSync(path.join(os.tmpdir(), 'spawner-home-'));
      writeFileSync(path.join(home, '.bashrc'), 'echo "from ~/.bashrc"\n');
      const { SHLVL: _level, ...environment } = process.env;
      const topLevel = warm({ env: { ...environment, HOME: home } });
      await warmShellsOf(topLevel);
      const output = await topLevel`echo ran; tr '\\0' ' ' < /proc/$$/cmdline`;
      assert.match(output.stdout, /read -r -d "" __runbook_script <&\d+/, 'the last command ran in a warm shell');
      assert.equal(output.stdout.split('\n')[0], 'ran');
      const fresh = await topLevel({ cwd: home })`echo ran`;
      assert.equal(fresh.stdout, 'ran\n', 'a fresh shell');
    }));

  it('gives every command a fresh shell: nothing one sets is seen by the next', async () => {
    await sh`true`;
    await sh`cd /; LEFT_OVER=1; export EXPORTED=2; set +e; left() { :; }`;
    const output = await sh`pwd; echo "[\${LEFT_OVER:-}] [\${EXPORTED:-}]"; type left 2>/dev/null || echo no-function; case $- in *e*) echo errexit;; esac`;
    assert.equal(output.stdout, `${process.cwd()}\n[] []\nno-function\nerrexit\n`);
  });

  it('leaves no trace of how the script arrived: no extra socket, no variable', () =>
    withWarmSpawner(async (warm) => {
      // Pipes and sockets (the Python host's stdio are pipes, Node's socket pairs), as many as a fresh shell has. The
      // shell lists its own descriptors with a glob, before it starts anything: a pipeline's own pipe would be counted
      // or not depending on when the shell closes its end.
      const probe = () =>
        warm`n=0; for fd in /proc/$$/fd/*; do case "$(readlink "$fd")" in pipe:*|socket:*) n=$((n + 1));; esac; done; echo $n; echo "[\${__runbook_script-unset}]"`;
      const fresh = (await probe()).stdout;
      await warmShellsOf(warm);
      const reused = (await probe()).stdout;
      assert.match(fresh, /^\d+\n\[unset\]\n$/);
      assert.ok(Number(fresh.split('\n')[0]) >= 3, 'stdin, stdout and stderr');
      assert.equal(reused, fresh);
    }));

  it('reports exit codes, syntax errors and signals as bash -c does', async () => {
    await sh`true`;
    assert.equal((await sh`exit 7`.nothrow()).exitCode, 7);
    const syntax = await sh`if then`.nothrow();
    assert.equal(syntax.exitCode, 2);
    assert.match(syntax.stderr, /syntax error near unexpected token `then'/);
    const killed = await sh`kill -TERM $$`.nothrow();
    assert.equal(killed.signal, 'SIGTERM');
  });

  it('feeds input through stdin as ever', async () => {
    await sh`true`;
    assert.equal((await sh({ input: 'a\nb\nc\n' })`wc -l`).stdout.trim(), '3');
  });

  it('starts fresh when the cwd or environment differ from the warm shell', async () => {
    await sh`true`;
    const moved = await $({ spawn: spawner.spawn, quiet: true, cwd: '/' })`pwd`;
    assert.equal(moved.stdout, '/\n');
    const other = await $({ spawn: spawner.spawn, quiet: true, env: { ...process.env, ONLY_HERE: 'x' } })`echo $ONLY_HERE`;
    assert.equal(other.stdout, 'x\n');
    assert.equal((await sh`echo "[\${ONLY_HERE:-}]"; pwd`).stdout, `[]\n${process.cwd()}\n`);
  });

  it('runs a command for another shell than bash in that shell (the warm shell is bash)', async () => {
    const posix = $({ spawn: spawner.spawn, quiet: true, shell: '/bin/sh', prefix: '' });
    const shellOf = async () => path.basename((await posix`readlink /proc/$$/exe`).stdout.trim());
    const expected = path.basename(realpathSync('/bin/sh'));
    assert.equal(await shellOf(), expected);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await shellOf(), expected);
  });

  it('runs a long script (past what a warm shell reads) from a fresh shell', async () => {
    await sh`true`;
    const output = await sh`: ${'x'.repeat(5000)}; echo long-done; tr '\\0' ' ' < /proc/$$/cmdline | tail -c 40`;
    // Its command line is the script itself: bash -c, not a warm shell.
    assert.match(output.stdout, /^long-done\n.*tail -c 40 $/);
  });

  it('survives the Ctrl-C that interrupts a run, and gives the next command the signal handling of a fresh shell', () =>
    withWarmSpawner(async (warm) => {
      const probe = () => warm`echo runs; grep -E '^Sig(Ign|Cgt)' /proc/self/status; true`;
      const fresh = (await probe()).stdout;
      const hosts = await warmShellsOf(warm);
      // The terminal signals the whole foreground process group: the runner, the hosts and the waiting shells.
      const waiting = await waitingShells(hosts);
      await $({ quiet: true })`kill -INT ${waiting}`;
      await new Promise((resolve) => setTimeout(resolve, 100));
      // Still there, waiting: the rollback's command, sent at once after the interrupt, must not meet a dead shell.
      assert.deepEqual(await waitingShells(hosts), waiting);
      assert.equal((await probe()).stdout, fresh);
    }));

  it('does not hand a script to a warm shell that died while waiting', () =>
    withWarmSpawner(async (warm) => {
      const hosts = await warmShellsOf(warm);
      const waiting = await waitingShells(hosts);
      // The hosts are stopped while their shells die, so the command arrives with the exit not yet handled: the
      // moment a loaded machine gives at random (seen in CI: the command was handed to the dead shell, "SIGKILL").
      await $({ quiet: true })`kill -STOP ${hosts}`;
      try {
        await $({ quiet: true })`kill -KILL ${waiting}`;
        await waitFor('the killed shells dead', () => waiting.every((pid) => processState(Number(pid)) === 'Z'), 3000);
        const ran = warm`echo still-works`;
        // The command is in the host's channel before the host runs again, beside the news of its shell's exit.
        await waitFor('the command sent', () => ran.child !== undefined, 3000);
        await $({ quiet: true })`kill -CONT ${hosts}`;
        assert.equal((await ran).stdout, 'still-works\n');
      } finally {
        await $({ quiet: true, nothrow: true })`kill -CONT ${hosts}`;
      }
    }));
});

}

describe('which host runs the commands', { skip: !kinds.includes('python') && 'no /usr/bin/python3 on Linux here' }, () => {
  it("is the system Python's on Linux", () =>
    withHostsOf(createSpawnerOf(), async (hosts) => {
      for (const host of hosts) assert.match(readFileSync(`/proc/${host}/cmdline`, 'utf8'), /^\/usr\/bin\/python3\0.*spawn-host\.py\0$/);
    }));

  it("is Node's, with every command sent meanwhile, when that Python cannot run it", { timeout: 20_000 }, () =>
    // A Python that exits at once, before it could say it is ready; the commands already sent to it must not be lost.
    withHostsOf(createSpawnerOf({ python: '/bin/false' }), async (hosts, shell) => {
      for (const host of hosts) assert.match(readFileSync(`/proc/${host}/cmdline`, 'utf8'), /spawn-host\.mjs\0$/);
      const outputs = await Promise.all([shell`echo one`, shell`echo two`, shell({ input: 'three' })`cat`]);
      assert.deepEqual(outputs.map((output) => output.stdout.trim()), ['one', 'two', 'three']);
    }));
});

/** Runs two commands at once from a fresh spawner (so both hosts boot), then hands over the hosts' pids. */
async function withHostsOf(local: ReturnType<typeof createSpawnerOf>, body: (hosts: string[], shell: Shell) => Promise<void>): Promise<void> {
  const shell = $({ spawn: local.spawn, quiet: true });
  try {
    const pids = await Promise.all([shell`echo $PPID`, shell`echo $PPID`]);
    await body([...new Set(pids.map((output) => output.stdout.trim()))], shell);
  } finally {
    local.close();
  }
}

/**
 * A Node host stopped in the middle of evaluating its modules, where it reads nothing from its channel: a loader hook
 * appends a SIGSTOP to one of them. (Stopped any earlier, it would find the closed channel while its modules load.)
 */
function nodeHostHeldWhileLoading(): ChildProcess {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'host-epipe-'));
  writeFileSync(
    path.join(dir, 'hooks.mjs'),
    `export async function load(url, context, next) {
      const loaded = await next(url, context);
      if (!url.endsWith('/process-identity.mjs')) return loaded;
      return { ...loaded, source: String(loaded.source) + '\\nprocess.kill(process.pid, "SIGSTOP");\\n' };
    }`,
  );
  writeFileSync(path.join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)});\n`);
  const hostPath = repoPath('common', 'spawn', 'spawn-host.mjs');
  return fork(hostPath, [], { execArgv: ['--import', pathToFileURL(path.join(dir, 'register.mjs')).href], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' });
}

/** A Python host stopped as it starts: it reads nothing from its channel before it says it is ready. */
function pythonHostHeldAtStart(): ChildProcess {
  const host = spawn('/usr/bin/python3', ['-I', '-S', '-X', 'utf8', repoPath('common', 'spawn', 'spawn-host.py')], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'json' });
  process.kill(host.pid!, 'SIGSTOP');
  return host;
}

/** The warm shells waiting in these hosts. */
async function waitingShells(hosts: string[]): Promise<string[]> {
  const found = await Promise.all(hosts.map(async (host) => (await $({ quiet: true, nothrow: true })`pgrep -P ${host} -f ${'read -r -d "" __runbook_script'}`).stdout.trim()));
  return found.filter(Boolean).sort();
}

/**
 * Runs commands until every host (they take turns; the second boots with the second command) has run one, then waits
 * for each to have its next shell ready.
 */
async function warmShellsOf(shell: Shell): Promise<string[]> {
  const hosts = new Set<string>();
  await waitFor('a command from every host', async () => hosts.add((await shell`echo $PPID`).stdout.trim()).size === 2, 10_000);
  await waitFor('a warm shell in every host', async () => (await waitingShells([...hosts])).length === hosts.size, 3000);
  return [...hosts];
}

/** The pid a command printed first (`echo $$`). */
async function firstLine(pending: { stdout: NodeJS.ReadableStream }): Promise<number> {
  return new Promise((resolve) => pending.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
}

/** Waits (briefly) for a process to be gone: a signal is delivered at once, but dying takes a moment. */
function gone(pid: number): Promise<boolean> {
  return eventually(() => !isAlive(pid), 2000);
}
