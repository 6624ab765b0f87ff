import { benchCorpus } from './corpus.ts';
import { benchDrift } from './drift.ts';
import { benchRotation } from './rotation.ts';
import { benchParse, benchPlanProcess, benchSteps, type BenchResult } from './runner.ts';

/** `npm run bench`: a table for people, then one JSON document for machines; exit 1 when a target is missed. */
async function main(): Promise<number> {
  // The process-level figures first: the in-process parse bench leaves a large heap behind whose collection would run
  // on the cores the measured processes need.
  const rotation = benchRotation();
  const planProcess = benchPlanProcess();
  const steps = benchSteps();
  const results: BenchResult[] = [...rotation, ...planProcess, ...benchParse(), ...steps, await benchDrift()];
  // Real repositories (../shared/corpus): skipped with a line on stderr when the corpus is not beside the repo.
  results.push(...(benchCorpus()?.results ?? []));
  const width = Math.max(...results.map((result) => result.name.length));
  for (const result of results) {
    const at = result.unit === '%' ? '>=' : '<=';
    // Each figure beside its anchor: its target, or the figure it is read against.
    const target = result.target !== undefined ? `  target ${at} ${result.target}${result.unit}  ${result.pass ? 'ok' : 'MISSED'}` : result.anchor ? `  beside ${result.anchor}` : '';
    process.stdout.write(`${result.name.padEnd(width)}  ${result.value.toFixed(result.value < 10 ? 2 : 0).padStart(8)} ${result.unit}${target}\n`);
  }
  process.stdout.write(`${JSON.stringify({ node: process.version, results }, null, 2)}\n`);
  return results.some((result) => result.pass === false) ? 1 : 0;
}

process.exitCode = await main();
