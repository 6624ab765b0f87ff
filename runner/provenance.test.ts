import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repositoryPath } from './provenance.ts';

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();

/** A repository with one commit and `docs/runbook.md`, in a fresh folder; `GITHUB_WORKSPACE` is not what names it. */
function repository(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'provenance-'));
  mkdirSync(path.join(root, 'docs'));
  writeFileSync(path.join(root, 'docs', 'runbook.md'), '# Runbook\n');
  git(root, 'init', '-q');
  git(root, '-c', 'user.email=a@example.com', '-c', 'user.name=A', 'commit', '-q', '--allow-empty', '-m', 'first');
  return root;
}

describe('repositoryPath (the document as reports name it)', { concurrency: false }, () => {
  const workspace = process.env['GITHUB_WORKSPACE'];
  const outsideCi = async <T>(body: () => Promise<T>): Promise<T> => {
    delete process.env['GITHUB_WORKSPACE'];
    try {
      return await body();
    } finally {
      if (workspace !== undefined) process.env['GITHUB_WORKSPACE'] = workspace;
    }
  };

  it('names a document from its repository root, as git finds that root, from any working folder', () =>
    outsideCi(async () => {
      const root = repository();
      assert.equal(git(path.join(root, 'docs'), 'rev-parse', '--show-toplevel'), root);
      assert.equal(await repositoryPath('runbook.md', path.join(root, 'docs')), 'docs/runbook.md');
      assert.equal(await repositoryPath('docs/runbook.md', root), 'docs/runbook.md');
      assert.equal(await repositoryPath(path.join(root, 'docs', 'runbook.md'), os.tmpdir()), 'docs/runbook.md');
    }));

  it('finds the root on disk: no git process, so a machine without git names it alike', () =>
    outsideCi(async () => {
      const root = repository();
      const pathVariable = process.env['PATH'];
      process.env['PATH'] = '';
      try {
        assert.equal(await repositoryPath('runbook.md', path.join(root, 'docs')), 'docs/runbook.md');
      } finally {
        process.env['PATH'] = pathVariable;
      }
    }));

  it('names it from the worktree it lies in, whose .git is a file', () =>
    outsideCi(async () => {
      const root = repository();
      const worktree = path.join(mkdtempSync(path.join(os.tmpdir(), 'provenance-wt-')), 'tree');
      git(root, 'worktree', 'add', '-q', worktree);
      mkdirSync(path.join(worktree, 'ops', 'secrets'), { recursive: true });
      writeFileSync(path.join(worktree, 'ops', 'secrets', 'rotate.md'), '# Rotate\n');
      assert.equal(git(path.join(worktree, 'ops'), 'rev-parse', '--show-toplevel'), worktree);
      assert.equal(await repositoryPath(path.join(worktree, 'ops', 'secrets', 'rotate.md'), os.tmpdir()), 'ops/secrets/rotate.md');
    }));

  it('keeps the path as given for a document in no repository', () =>
    outsideCi(async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'provenance-none-'));
      writeFileSync(path.join(dir, 'runbook.md'), '# Runbook\n');
      assert.equal(await repositoryPath('runbook.md', dir), 'runbook.md');
    }));
});
