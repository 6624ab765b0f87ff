import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Operator, RunProvenance } from './report/events.ts';
import { repoPath, repoRoot } from '../common/repo.ts';

/** `git config user.email` where git and the setting exist; a missing one is not an error, only less identification. */
function gitEmail(cwd: string): string | undefined {
  try {
    const email = execFileSync('git', ['config', 'user.email'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim();
    return email || undefined;
  } catch {
    return undefined;
  }
}

/** The person at the keyboard as the machine knows them: the OS account, and the git identity when there is one. */
export function currentOperator(cwd: string): Operator {
  const name = os.userInfo().username;
  const email = gitEmail(cwd);
  return { name, email, identifiedBy: email ? 'OS user, git config user.email' : 'OS user' };
}

/** Who ran the run, where, with which tool: the header of the record an auditor reads. */
export function runProvenance(cwd: string): RunProvenance {
  const manifest = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { name: string; version: string };
  return { operator: currentOperator(cwd), host: os.hostname(), tool: `runbook ${manifest.version}`, node: process.version };
}

/** The document's path from its repository's root (annotations and reports name it so), else as given. */
export function repositoryPath(file: string, cwd: string): string {
  const absolute = path.resolve(cwd, file);
  const workspace = process.env['GITHUB_WORKSPACE'];
  let root: string | undefined = workspace;
  if (!root) {
    try {
      root = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: path.dirname(absolute), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim();
    } catch {
      root = undefined;
    }
  }
  root ??= repoRoot();
  const relative = path.relative(root, absolute);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative.split(path.sep).join('/') : file;
}
