import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { repoPath } from '../common/repo.ts';
import { benchEnv, type BenchResult } from './runner.ts';

/** The line the embedded sandbox's VPS logs as it stops (sandbox/platform/platform.ts). */
const HANDSHAKES = /\[vps\] ssh: (\d+) authenticated connection\(s\) since start$/;

function rotation(): { ms: number; code: number | null; handshakes: number } {
  const started = performance.now();
  // Exactly what the README's `npm start` runs, in the repository, as a whole process: the CLI's start, the
  // embedded sandbox's start, the rotation, the sandbox's stop.
  const result = spawnSync('npm', ['start', '--silent'], { cwd: repoPath(), encoding: 'utf8', env: benchEnv() });
  const ms = performance.now() - started;
  if (result.status !== 0) process.stderr.write(`bench: npm start failed (${result.status}):\n${result.stdout.slice(-3000)}${result.stderr.slice(-2000)}\n`);
  const log = readFileSync(repoPath('.runbook', 'sandbox-run', 'logs', 'sandbox.log'), 'utf8').trimEnd().split('\n');
  const last = log.reverse().map((line) => HANDSHAKES.exec(line)).find(Boolean);
  return { ms, code: result.status, handshakes: last ? Number(last[1]) : Number.NaN };
}

/**
 * `npm start` from a warm install (the CLI bundle, the parse cache and the sandbox's CA already there): one warm-up,
 * then the median of three, and the SSH handshakes the last one made (goal: one per host).
 */
export function benchRotation(rounds = 3): BenchResult[] {
  rotation();
  const runs = Array.from({ length: rounds }, rotation);
  const failed = runs.find((run) => run.code !== 0);
  const sorted = runs.map((run) => run.ms).sort((a, b) => a - b);
  const wall = sorted[Math.floor(sorted.length / 2)]! / 1000;
  const handshakes = runs.at(-1)!.handshakes;
  return [
    {
      name: `\`npm start\`, whole rotation on the sandbox (its start included)${failed ? `: FAILED, exit ${failed.code}` : ''}`,
      value: wall,
      unit: 's',
      target: 5,
      pass: !failed && wall <= 5,
    },
    { name: 'SSH handshakes per rotation', value: handshakes, unit: '', target: 1, pass: handshakes <= 1 },
  ];
}
