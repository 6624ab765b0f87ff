/**
 * Anchored bindings, many documents in one run, the repository config, the baseline, and a repository that is not a
 * tidy tree (symlinked folders, unreadable files): through `runbook check` as CI runs it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkCommand, type CheckOptions } from '../../cli/commands/checks.ts';
import { captureIO, writeRepo } from '../testing.ts';
import { bindingsPath } from './bindings.ts';

/** A repository with its docs, as CI sees it: `runbook check 'docs/**\/*.md' --repo .` from its root. */
async function check(root: string, args: string[], dependencies: Parameters<typeof checkCommand>[1] = {}) {
  const io = captureIO();
  const previous = process.cwd();
  process.chdir(root);
  // The command line as CI types it, read into the command's options.
  const options: CheckOptions = { files: args.filter((arg, k) => !arg.startsWith('--') && !args[k - 1]?.startsWith('--baseline')), repo: '.' };
  if (args.includes('--update')) options.update = true;
  if (args.includes('--baseline')) options.baseline = args[args.indexOf('--baseline') + 1];
  try {
    const exit = await checkCommand(options, { io, ...dependencies });
    return { exit, out: io.out, err: io.err };
  } finally {
    process.chdir(previous);
  }
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@localhost', ...args], { cwd, stdio: 'pipe' });

describe('anchored bindings', () => {
  let root: string;
  before(() => {
    root = writeRepo({
      'app/settings.py': 'import os\nTIMEOUT = os.environ.get("SHOP_TIMEOUT_SECONDS")\n',
      'scripts/deploy.sh': '#!/bin/bash\necho deploy\n',
      'docs/ops.md': '# Ops\n\nThe deploy reads SHOP_TIMEOUT_SECONDS; see deploy.sh.\n',
    });
    git(root, 'init', '-q');
    git(root, 'add', '-A');
    git(root, 'commit', '-qm', 'head');
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('records what each claim bound to beside the document, and a second run is clean', async () => {
    const first = await check(root, ['docs/*.md', '--update']);
    assert.equal(first.exit, 0, first.out.join('\n'));
    const written = JSON.parse(readFileSync(path.join(root, bindingsPath('docs/ops.md')), 'utf8')) as { claims: { claim: string; file: string; line?: number }[] };
    assert.deepEqual(
      written.claims.map((claim) => `${claim.claim} -> ${claim.file}${claim.line ? `:${claim.line}` : ''}`),
      ['env:SHOP_TIMEOUT_SECONDS -> app/settings.py:2', 'path:deploy.sh -> scripts/deploy.sh'],
    );
    assert.equal((await check(root, ['docs/*.md'])).exit, 0);
  });

  it('reports a claim that was true and no longer is, which a first run would not check', async () => {
    writeFileSync(path.join(root, 'app/settings.py'), 'import os\nTIMEOUT = os.environ.get("SHOP_TIMEOUT_SECS")\n');
    try {
      const bound = await check(root, ['docs/*.md']);
      assert.equal(bound.exit, 1);
      assert.deepEqual(bound.out, [
        'docs/ops.md:3:18-3:38: Unexpected env var `SHOP_TIMEOUT_SECONDS` that no platform code names, expected `SHOP_TIMEOUT_SECS` (it was `app/settings.py:2` when the bindings were written) [drift-env]',
      ]);
      // Without the bindings the prose mention is only a word of the right shape: not a claim.
      rmSync(path.join(root, bindingsPath('docs/ops.md')));
      assert.equal((await check(root, ['docs/*.md'])).exit, 0);
    } finally {
      git(root, 'checkout', '-q', '--', 'app/settings.py');
      await check(root, ['docs/*.md', '--update']);
    }
  });

  it('names the rename git records for a bound file', async () => {
    git(root, 'mv', 'scripts/deploy.sh', 'scripts/ship.sh');
    git(root, 'commit', '-qm', 'rename');
    const { exit, out } = await check(root, ['docs/*.md']);
    assert.equal(exit, 1);
    assert.deepEqual(out, [
      'docs/ops.md:3:44-3:53: Unexpected file `deploy.sh` that is not in the platform repo, expected `scripts/ship.sh` (it was `scripts/deploy.sh` when the bindings were written; git records `scripts/deploy.sh` renamed to `scripts/ship.sh`) [drift-env]'.replace('[drift-env]', '[drift-path]'),
    ]);
  });

  it('tells a new claim that binds to nothing apart (no binding to name)', async () => {
    writeFileSync(path.join(root, 'docs/new.md'), '# New\n\n```bash\n./scripts/rollback.sh\n```\n');
    try {
      const { out } = await check(root, ['docs/new.md']);
      assert.deepEqual(out, ['docs/new.md:4:3-4:22: Unexpected path `scripts/rollback.sh` that is not in the platform repo, expected a path the platform repo has [drift-path]']);
    } finally {
      rmSync(path.join(root, 'docs/new.md'));
    }
  });

  it('lets a repository adopt the gate with a baseline of what it reports today', async () => {
    const baseline = path.join(root, 'drift-baseline.json');
    const adopted = await check(root, ['docs/*.md', '--update', '--baseline', baseline]);
    assert.equal(adopted.exit, 0, adopted.out.join('\n'));
    assert.deepEqual(JSON.parse(readFileSync(baseline, 'utf8')).findings, [{ document: 'docs/ops.md', rule: 'drift-path', actual: 'deploy.sh' }]);
    assert.deepEqual((await check(root, ['docs/*.md', '--baseline', baseline])).out, []);
    // New drift still fails the gate.
    writeFileSync(path.join(root, 'docs/new.md'), '# New\n\n```bash\n./scripts/rollback.sh\n```\n');
    try {
      assert.equal((await check(root, ['docs/*.md', '--baseline', baseline])).exit, 1);
    } finally {
      rmSync(path.join(root, 'docs/new.md'));
    }
  });
});

describe('a run over many documents', () => {
  let root: string;
  let server: net.Server;
  before(async () => {
    root = writeRepo({
      'compose.yaml': 'services:\n  web: {}\n',
      'docs/a.md': '# A\n\n```bash\ndocker compose logs web\n```\n',
      'docs/deep/b.md': '# B\n\n```bash\ndocker compose logs wbe\n```\n',
      'docs/legacy/c.md': '# C\n\n```bash\ndocker compose logs gone\n```\n',
      'outside/d.md': '# D\n\n```bash\ndocker compose logs outside\n```\n',
    });
    // A symlinked folder (here a loop back to the root) and a socket: neither may crash the walk.
    symlinkSync('..', path.join(root, 'docs', 'loop'));
    symlinkSync(path.join(root, 'outside'), path.join(root, 'docs', 'linked'));
    server = net.createServer();
    await new Promise<void>((resolve) => server.listen(path.join(root, 'docs', 'control.md'), resolve));
  });
  after(() => {
    server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('checks every document a glob names over one index, skipping symlinked folders and unreadable files', async () => {
    const { exit, out, err } = await check(root, ['docs/**/*.md']);
    assert.equal(exit, 1);
    assert.deepEqual(out.map((line) => line.replace(/:\d+:\d+-\d+:\d+: [^`]*`(\w+)`.*/, ' $1')), ['docs/deep/b.md wbe', 'docs/legacy/c.md gone']);
    assert.ok(err.some((line) => /skipped docs\/loop: symlink, not followed/.test(line)), err.join('\n'));
    assert.ok(err.some((line) => /skipped docs\/linked: symlink, not followed/.test(line)), err.join('\n'));
    assert.ok(err.some((line) => /skipped (\.\/)?docs\/control\.md/.test(line)), err.join('\n'));
    assert.match(err[err.length - 1]!, /3 documents: 2 problems/);
  });

  it('leaves out the documents the repository config ignores, and refuses an ignore without a reason', async () => {
    writeFileSync(path.join(root, '.runbook-drift.yml'), 'ignore:\n  - documents: "docs/legacy/**"\n    reason: archived\n  - mention: wbe\n    reason: the reader names it\n');
    try {
      assert.deepEqual((await check(root, ['docs/**/*.md'])).out, []);
      writeFileSync(path.join(root, '.runbook-drift.yml'), 'ignore:\n  - documents: "docs/legacy/**"\n');
      const refused = await check(root, ['docs/**/*.md']);
      assert.equal(refused.exit, 2);
      assert.match(refused.err.join('\n'), /ignore\[0\]: expected a `reason`/);
    } finally {
      rmSync(path.join(root, '.runbook-drift.yml'));
    }
  });

  it('exits 70 on an internal error, apart from drift (1) and usage (2)', async () => {
    const { exit, err } = await check(root, ['docs/a.md'], {
      indexRepo: async () => {
        throw new TypeError('index exploded');
      },
    });
    assert.equal(exit, 70);
    assert.match(err.join('\n'), /^runbook check: internal error: TypeError: index exploded/m);
  });

  it('indexes a repo with a symlinked folder and an unreadable file without failing', async () => {
    // The repo itself has the loop and the socket (docs/loop, docs/control.md): the index skips them with a note.
    const { err } = await check(root, ['docs/a.md']);
    assert.ok(err.some((line) => /skipped \.\/docs\/loop: symlinked directory/.test(line) || /skipped docs\/loop: symlinked directory/.test(line)), err.join('\n'));
  });
});

