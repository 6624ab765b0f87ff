import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRunbook } from '../runner/parse/index.ts';
import { planRun } from '../runner/plan/index.ts';
import { repoPath } from '../common/repo.ts';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  target?: number;
  /** 'max': value must stay at or below target. */
  pass?: boolean;
  /** What the figure is read against when it has no target of its own (zx's figure beside ours). */
  anchor?: string;
}

const fence = '```';

export function generateRunbook(steps: number): string {
  const sections: string[] = ['---', 'title: Generated', 'owner: bench', '---', ''];
  for (let index = 1; index <= steps; index += 1) {
    sections.push(
      `## Step ${index}`,
      '',
      `Prints the number ${index}.`,
      '',
      `${fence}ts step id=s${index} timeout=30s`,
      `await $\`echo step ${index}\``,
      fence,
      '',
      `${fence}ts verify`,
      `expect(result.stdout).toBe('step ${index}\\n')`,
      fence,
      '',
    );
  }
  return sections.join('\n');
}

/** The same document as zx's markdown mode runs it: one `js` block per step, its check inline. */
function generateZxDocument(steps: number): string {
  const sections: string[] = ['# Generated', ''];
  for (let index = 1; index <= steps; index += 1) {
    sections.push(
      `## Step ${index}`,
      '',
      `${fence}js`,
      `{ const out = await $\`echo step ${index}\`; if (out.stdout !== 'step ${index}\\n') throw new Error('step ${index}') }`,
      fence,
      '',
    );
  }
  return sections.join('\n');
}

/**
 * Parse + plan of a 1,000-step document. The first parse in a process also pays for the JIT warming to the parser
 * (reported, no target); the target applies to the warm figure, the median of five parses after two discarded ones,
 * as benchmarks of a library's throughput measure it.
 */
export function benchParse(): BenchResult[] {
  const source = generateRunbook(1000);
  const once = () => {
    const started = performance.now();
    const { runbook, messages } = parseRunbook(source, 'generated.md');
    planRun(runbook, {});
    if (messages.length > 0 || runbook.steps.length !== 1000) throw new Error('generated runbook did not parse cleanly');
    return performance.now() - started;
  };
  // The module graph loads first, so no figure includes import time.
  parseRunbook(generateRunbook(2), 'warm.md');
  const cold = once();
  once();
  const samples = Array.from({ length: 5 }, once);
  const value = median(samples);
  return [
    { name: 'parse+plan, 1,000 steps (first in a process)', value: cold, unit: 'ms' },
    { name: 'parse+plan, 1,000 steps', value, unit: 'ms', target: 300, pass: value <= 300 },
  ];
}

/** The environment the bench's processes run in: as under CI, without colour. */
export function benchEnv(): NodeJS.ProcessEnv {
  return { ...process.env, CI: 'true', FORCE_COLOR: '0' };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** bench/tree-cpu.pl, where it works (Linux on x86_64 or arm64, with perl): the CPU of a command's whole tree. */
const treeCpu = repoPath('bench', 'tree-cpu.pl');
let treeCpuWorks: boolean | undefined;

function timeCommand(command: string, args: string[], cwd: string): { ms: number; peakKb: number; cpuMs?: number } {
  treeCpuWorks ??= spawnSync('perl', [treeCpu, 'true'], { stdio: 'ignore' }).status === 0;
  const timed = ['/usr/bin/time', '-f', '%M', command, ...args];
  const [file, ...argv] = treeCpuWorks ? ['perl', treeCpu, ...timed] : timed;
  const started = performance.now();
  // A SHLVL, as under a terminal: without one, zx's commands read ~/.bashrc (bash takes a shell whose stdin is a
  // socket for sshd's; ours start with --norc), and the comparison would measure the operator's ~/.bashrc.
  const env = { ...benchEnv(), SHLVL: process.env['SHLVL'] || '1' };
  const result = spawnSync(file!, argv, { cwd, encoding: 'utf8', env });
  const ms = performance.now() - started;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  // time's line, then tree-cpu.pl's.
  const lines = result.stderr.trim().split('\n');
  const cpuMs = treeCpuWorks ? Number(lines.pop()) * 1000 : undefined;
  const peakKb = Number(lines.at(-1));
  return { ms, peakKb, ...(cpuMs === undefined ? {} : { cpuMs }) };
}

/**
 * Per-step overhead against zx's markdown mode: both run a 100-step and a 400-step document as whole processes;
 * (t400 - t100) / 300 is the marginal cost of a step, free of start-up and of the one-off warm-up (module loading,
 * JIT) that the first steps of any run pay. Our figure includes the fsynced journal and the verify block.
 *
 * A shared machine's load drifts by tens of percent within seconds, so each round runs all four documents back to
 * back, ours and zx's interleaved, and the figures are medians over seven rounds: drift hits both sides of a round alike.
 */
export function benchSteps(rounds = 7): BenchResult[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'runbook-bench-'));
  const [small, large] = [100, 400];
  writeFileSync(path.join(dir, 'steps-large.md'), generateRunbook(large));
  writeFileSync(path.join(dir, 'steps-small.md'), generateRunbook(small));
  writeFileSync(path.join(dir, 'zx-large.md'), generateZxDocument(large));
  writeFileSync(path.join(dir, 'zx-small.md'), generateZxDocument(small));
  const cli = repoPath('bin', 'runbook.js');
  const zx = repoPath('node_modules', 'zx', 'build', 'cli.js');
  // File reports only: streaming a large event log through a pipe would measure the pipe, not the runner.
  const ours = (file: string) => timeCommand(process.execPath, [cli, 'run', file, '--reporter', 'junit', '--out', path.join(dir, 'reports')], dir);
  const theirs = (file: string) => timeCommand(process.execPath, [zx, '--quiet', file], dir);
  // Warm what every later run finds warm: the CLI bundle, the compiled-module and model caches, the disk.
  ours('steps-small.md');
  ours('steps-large.md');
  theirs('zx-small.md');
  const oursMarginal: number[] = [];
  const zxMarginal: number[] = [];
  const oursSmall: number[] = [];
  const zxSmall: number[] = [];
  const oursCpu: number[] = [];
  const zxCpu: number[] = [];
  let peakKb = 0;
  for (let round = 0; round < rounds; round += 1) {
    const a = ours('steps-small.md');
    const b = theirs('zx-small.md');
    const c = ours('steps-large.md');
    const d = theirs('zx-large.md');
    oursMarginal.push(Math.max(0, c.ms - a.ms) / (large - small));
    zxMarginal.push(Math.max(0.001, d.ms - b.ms) / (large - small));
    oursSmall.push(a.ms);
    zxSmall.push(b.ms);
    if (a.cpuMs !== undefined && b.cpuMs !== undefined && c.cpuMs !== undefined && d.cpuMs !== undefined) {
      oursCpu.push((c.cpuMs - a.cpuMs) / (large - small));
      zxCpu.push((d.cpuMs - b.cpuMs) / (large - small));
    }
    peakKb = Math.max(peakKb, a.peakKb);
  }
  const oursPerStep = median(oursMarginal);
  const zxPerStep = median(zxMarginal);
  const ratio = oursPerStep / zxPerStep;
  // The median of per-round ratios: each round's pair ran back to back, under the same load.
  const wallRatio = median(oursSmall.map((ms, round) => ms / zxSmall[round]!));
  return [
    { name: 'runbook: per-step cost (journal + verify)', value: oursPerStep, unit: 'ms', anchor: `zx markdown ${zxPerStep.toFixed(2)} ms` },
    { name: 'zx markdown: per-step cost', value: zxPerStep, unit: 'ms' },
    { name: 'per-step ratio runbook / zx (same run)', value: ratio, unit: 'x', target: 1.1, pass: ratio <= 1.1 },
    { name: `runbook: ${small}-step document, whole process`, value: median(oursSmall), unit: 'ms', anchor: `zx markdown ${Math.round(median(zxSmall))} ms` },
    { name: `zx markdown: ${small}-step document, whole process`, value: median(zxSmall), unit: 'ms' },
    { name: `${small}-step wall ratio runbook / zx (same run)`, value: wallRatio, unit: 'x', target: 1.2, pass: wallRatio <= 1.2 },
    { name: `runbook: peak memory, ${small} steps`, value: peakKb / 1024, unit: 'MiB' },
    // CPU rather than wall time: what a step costs the machine, every process counted (the command hosts and their
    // shells too), and far steadier on a shared machine than wall time. No target: the are in wall time.
    ...(oursCpu.length > 0
      ? [{ name: 'runbook: CPU per step, whole process tree', value: median(oursCpu), unit: 'ms', anchor: `zx markdown ${median(zxCpu).toFixed(1)} ms` }]
      : []),
  ];
}

/**
 * `runbook plan runbook.md` as a whole process, as an operator waits for it (from the repository, where runs keep
 * their parse cache): the median of five after a warm-up.
 */
export function benchPlanProcess(rounds = 5): BenchResult[] {
  const cli = repoPath('bin', 'runbook.js');
  // The process alone, as the operator starts it: without timeCommand's wrappers (perl and time add ~20 ms here, and
  // neither the CPU nor the memory of `plan` is reported).
  const plan = () => {
    const started = performance.now();
    const result = spawnSync(process.execPath, [cli, 'plan', 'runbook.md'], { cwd: repoPath(), stdio: 'ignore', env: benchEnv() });
    if (result.status !== 0) throw new Error(`runbook plan runbook.md failed (${result.status})`);
    return performance.now() - started;
  };
  plan();
  const value = median(Array.from({ length: rounds }, plan));
  return [{ name: '`runbook plan runbook.md`, whole process', value, unit: 'ms', target: 250, pass: value <= 250 }];
}
