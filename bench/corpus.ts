import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoPath, repoRoot } from '../common/repo.ts';
import type { RepoFigures, RepoLabels } from './corpus-repo.ts';
import type { BenchResult } from './runner.ts';

/**
 * The drift checks on real repositories nobody here wrote (`../shared/corpus/`: one commit of each as tar.xz):
 * per repository, findings at HEAD with the labelled precision, findings once bindings and a baseline are written,
 * recall on drifts planted in copies, time and memory, each beside its goal.
 */
const GOALS = { precision: 95, withBindings: 0, recall: 90, oneDocumentMs: 2_000, allDocumentsMs: 10_000 };
const LABELS = repoPath('bench', 'corpus-labels.json');

/** `$RUNBOOK_CORPUS`, else `shared/corpus` beside the repository or any folder above it. */
export function findCorpus(): string | undefined {
  const explicit = process.env['RUNBOOK_CORPUS'];
  if (explicit) return existsSync(explicit) ? explicit : undefined;
  for (let dir = repoRoot(); ; dir = path.dirname(dir)) {
    for (const candidate of [path.join(dir, 'shared', 'corpus'), path.join(dir, '..', 'shared', 'corpus')])
      if (existsSync(candidate) && readdirSync(candidate).some((name) => name.endsWith('.tar.xz'))) return path.resolve(candidate);
    if (path.dirname(dir) === dir) return undefined;
  }
}

const pct = (part: number, whole: number) => (whole === 0 ? 100 : Math.round((1000 * part) / whole) / 10);

export function corpusResults(figures: RepoFigures): BenchResult[] {
  const labelled = figures.real + figures.falsePositive + figures.unlabelled.length;
  const caught = figures.plants.filter((plant) => plant.caught).length;
  // Which kinds were planted: a kind is missing only where the repo's docs claim nothing of it.
  const kinds = new Map<string, number>();
  for (const plant of figures.plants) kinds.set(plant.kind, (kinds.get(plant.kind) ?? 0) + 1);
  const sample = [...kinds].map(([kind, count]) => `${kind} ${count}`).join(', ');
  return [
    { name: `${figures.name}: findings at HEAD (${figures.documents} docs, ${figures.real} real drift)`, value: figures.findings.length, unit: '' },
    // Unlabelled findings count against precision: a finding nobody has looked at is not known to be right.
    { name: `${figures.name}: labelled precision`, value: pct(figures.real, labelled), unit: '%', target: GOALS.precision, pass: pct(figures.real, labelled) >= GOALS.precision },
    { name: `${figures.name}: findings with bindings at HEAD`, value: figures.withBindings.length, unit: '', target: GOALS.withBindings, pass: figures.withBindings.length <= GOALS.withBindings },
    { name: `${figures.name}: recall, ${figures.plants.length} planted drifts (${sample})`, value: pct(caught, figures.plants.length), unit: '%', target: GOALS.recall, pass: pct(caught, figures.plants.length) >= GOALS.recall },
    { name: `${figures.name}: recall without bindings (first run)`, value: pct(figures.plants.filter((plant) => plant.caughtWithoutBindings).length, figures.plants.length), unit: '%' },
    { name: `${figures.name}: one document (index + check)`, value: figures.oneDocumentMs, unit: 'ms', target: GOALS.oneDocumentMs, pass: figures.oneDocumentMs <= GOALS.oneDocumentMs },
    { name: `${figures.name}: all ${figures.documents} docs`, value: figures.allDocumentsMs, unit: 'ms', target: GOALS.allDocumentsMs, pass: figures.allDocumentsMs <= GOALS.allDocumentsMs },
    { name: `${figures.name}: peak memory (RSS)`, value: figures.peakRssMb, unit: 'MB' },
  ];
}

/** Every corpus repository measured; `undefined` (and a line saying why) when there is no corpus here. */
export function benchCorpus(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): { results: BenchResult[]; figures: RepoFigures[] } | undefined {
  const corpus = findCorpus();
  if (!corpus) {
    log('corpus figures skipped: no shared/corpus/*.tar.xz beside the repository (set RUNBOOK_CORPUS=DIR to point at one)');
    return undefined;
  }
  const labels = JSON.parse(readFileSync(LABELS, 'utf8')) as Record<string, RepoLabels>;
  const scratch = mkdtempSync(path.join(tmpdir(), 'drift-corpus-'));
  const results: BenchResult[] = [];
  const figures: RepoFigures[] = [];
  try {
    for (const archive of readdirSync(corpus).filter((name) => name.endsWith('.tar.xz')).sort()) {
      const name = archive.replace(/\.tar\.xz$/, '');
      execFileSync('tar', ['-xJf', path.join(corpus, archive), '-C', scratch]);
      const repoLabels = labels[name];
      if (!repoLabels) {
        log(`${name}: no labels in ${path.relative(repoRoot(), LABELS)}; skipped`);
        continue;
      }
      const child = spawnSync(process.execPath, ['--import', 'tsx', repoPath('bench', 'corpus-repo.ts'), name, path.join(scratch, name), JSON.stringify(repoLabels)], {
        cwd: repoRoot(),
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      if (child.status !== 0) throw new Error(`${name}: measuring failed: ${child.stderr}`);
      const repo = JSON.parse(child.stdout.trim().split('\n').pop()!) as RepoFigures;
      figures.push(repo);
      results.push(...corpusResults(repo));
      for (const line of repo.unlabelled) log(`${name}: unlabelled finding: ${line}`);
      for (const line of repo.withBindings) log(`${name}: finding with bindings: ${line}`);
      for (const plant of repo.plants.filter((entry) => !entry.caught)) log(`${name}: planted ${plant.kind} drift not caught: ${plant.claim}`);
      for (const plant of repo.plants.filter((entry) => !entry.caughtWithoutBindings)) log(`${name}: planted ${plant.kind} drift not caught without bindings: ${plant.claim}`);
      for (const entry of repo.unplanted) log(`${name}: no ${entry.kind} drift planted for ${entry.claim}: ${entry.why}`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { results, figures };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const outcome = benchCorpus();
  for (const result of outcome?.results ?? []) {
    const goal = result.target !== undefined ? `  (goal ${result.unit === '%' ? '>=' : '<='} ${result.target}${result.unit}) ${result.pass ? 'ok' : 'MISSED'}` : '';
    process.stdout.write(`${result.name.padEnd(72)} ${String(result.value).padStart(7)} ${result.unit}${goal}\n`);
  }
  if (process.argv.includes('--findings')) for (const repo of outcome?.figures ?? []) for (const line of repo.findings) process.stdout.write(`${repo.name}: ${line}\n`);
  process.exitCode = outcome?.results.some((result) => result.pass === false) ? 1 : 0;
}
