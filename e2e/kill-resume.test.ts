/**
 * SPEC "Reliability": `kill -9` at any moment of the rotation, then `runbook resume`, ends in the same state as an
 * uninterrupted run. The sandbox runs as its own process (`runbook sandbox up`), as it would for an operator, so it
 * outlives the killed runner; everything goes through the real CLI.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { controlRequest } from '../sandbox/client.ts';
import { repoRoot, runCli } from '../runner/test/helpers.ts';
import { envFileSecret, sha256 } from './helpers.ts';
import { readState } from '../sandbox/state.ts';


async function withSandbox(body: (workspace: string, facts: Record<string, string>) => Promise<void>): Promise<void> {
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'kill-resume-'));
  copyFileSync(path.join(repoRoot, 'runbook.md'), path.join(workspace, 'runbook.md'));
  const up = await runCli(['sandbox', 'up'], { cwd: workspace });
  assert.equal(up.code, 0, up.stderr);
  try {
    const facts = readState(path.join(workspace, '.runbook', 'sandbox'))!.facts;
    await body(workspace, facts);
  } finally {
    await runCli(['sandbox', 'down'], { cwd: workspace });
  }
}

async function read<T>(facts: Record<string, string>, route: string): Promise<T> {
  const response = await controlRequest(facts, 'GET', route);
  return (await response.json()) as T;
}

describe('kill -9 during the rotation, then runbook resume', { concurrency: false }, () => {
  // Moments, as the runner's plain output shows them: a step beginning, or a line printed half-way through one.
  const moments: Array<[string, string]> = [
    ['Step 1 begins', '▶ create-secret '],
    ['Step 1 has created the secret', 'created graph-secret'],
    ['Step 3 has spliced the env, before the upload is shredded', 'found_existing=True'],
    ['Step 4 is recreating the containers', 'Container curateme-backend-b2b  Recreate'],
    ['Step 6 begins watching the ingest', '▶ watch-ingest '],
  ];
  for (const [moment, marker] of moments) {
    it(`ends as an uninterrupted run when killed as ${moment}`, async () => {
      await withSandbox(async (workspace, facts) => {
        const before = await read<Array<{ keyId: string }>>(facts, '/tenant/credentials');
        let killed = false;
        const first = await runCli(['run', 'runbook.md', '--reporter', 'plain'], {
          cwd: workspace,
          onStdout: (text, child) => {
            if (!killed && text.includes(marker)) {
              killed = true;
              child.kill('SIGKILL');
            }
          },
        });
        assert.equal(first.signal, 'SIGKILL', first.stdout);

        const resumed = await runCli(['resume', '--reporter', 'plain'], { cwd: workspace });
        assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);

        // Exactly one secret: a new one.
        const after = await read<Array<{ keyId: string }>>(facts, '/tenant/credentials');
        assert.equal(after.length, 1);
        assert.ok(!before.some((credential) => credential.keyId === after[0]!.keyId));
        // The env holds the captured value (compared by digest).
        const envValue = envFileSecret(facts);
        const local = readFileSync(path.join(facts['sandbox-dir']!, 'fm-dogfood', 'm365_graph_secret.txt'), 'utf8');
        assert.equal(sha256(envValue), sha256(local.replace(/\n$/, '')));
        // No temp secret file anywhere.
        assert.deepEqual(readdirSync(facts['vps-tmp']!).filter((name) => name.includes('secret')), []);
        assert.deepEqual(readdirSync(path.join(facts['sandbox-dir']!, 'fm-dogfood')).filter((name) => name.endsWith('.tmp')), []);
        // The backend never ran with no valid secret, and no secret value reached a log.
        const monitor = await read<{ bothDead: unknown[]; leaks: unknown[] }>(facts, '/monitor');
        assert.deepEqual(monitor.bothDead, []);
        assert.deepEqual(monitor.leaks, []);
      });
    });
  }
});
