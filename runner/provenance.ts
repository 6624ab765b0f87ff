import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Operator, RunProvenance } from './report/events.ts';
import { repoPath, repoRoot } from '../common/repo.ts';

/**
 * A line `git` prints, or undefined where git, the repository or the setting is missing (not an error, only less
 * identification). Asynchronous: a run asks git while its block thread loads, instead of waiting for it.
 */
function gitLine(args: string[], cwd: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, encoding: 'utf8', timeout: 2000 }, (error, stdout) => resolve(error ? undefined : stdout.trim() || undefined));
  });
}

/** The person at the keyboard as the machine knows them: the OS account, and the git identity when there is one. */
export async function currentOperator(cwd: string): Promise<Operator> {
  const name = os.userInfo().username;
  const email = await gitLine(['config', 'user.email'], cwd);
  return { name, email, identifiedBy: email ? 'OS user, git config user.email' : 'OS user' };
}

/** Who ran the run, where, with which tool: the header of the record an auditor reads. */
export async function runProvenance(cwd: string): Promise<RunProvenance> {
  const [operator, manifest] = await Promise.all([currentOperator(cwd), readFile(repoPath('package.json'), 'utf8').then((text) => JSON.parse(text) as { version: string })]);
  return { operator, host: os.hostname(), tool: `runbook ${manifest.version}`, node: process.version };
}

/**
 * The work tree holding `dir`: the nearest folder with a `.git` entry (a folder, or the file a worktree or submodule
 * has), as git finds it. Looked up on disk rather than asked of git: a process started from the runner costs it a fork
 * of its whole memory in the busiest moment of a run. Where the environment tells git where the repository is
 * (GIT_DIR, GIT_WORK_TREE), only git knows: it is asked.
 */
async function workTreeOf(dir: string): Promise<string | undefined> {
  if (process.env['GIT_DIR'] || process.env['GIT_WORK_TREE']) return gitLine(['rev-parse', '--show-toplevel'], dir);
  for (let at = dir; ; at = path.dirname(at)) {
    if (existsSync(path.join(at, '.git'))) return at;
    if (path.dirname(at) === at) return undefined;
  }
}

/** The document's path from its repository's root (annotations and reports name it so), else as given. */
export async function repositoryPath(file: string, cwd: string): Promise<string> {
  const absolute = path.resolve(cwd, file);
  const root = process.env['GITHUB_WORKSPACE'] || (await workTreeOf(path.dirname(absolute))) || repoRoot();
  const relative = path.relative(root, absolute);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative.split(path.sep).join('/') : file;
}
