import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { XMLBuilder } from 'fast-xml-parser';
import type { BlockInfo, Reporter, RunMessage } from './events.ts';
import { whyNotRun } from './executed.ts';
import { messageLines } from './format.ts';
import { RecordBuilder, type RunRecord } from './record.ts';

interface Case {
  block: BlockInfo;
  classname: string;
  seconds: number;
  output: string[];
  failure?: RunMessage;
  error?: string;
  skipped?: string;
}

/**
 * The cases of a run: a testcase per step (the step's outcome), verify and expect block (the block's) in document
 * order, skips with their reason (a `when=` skip says so; a step the run never got to says "not reached"), then one
 * per rollback in the order they ran.
 */
export function junitCases(record: RunRecord): Case[] {
  const { document } = record.begin;
  const cases: Case[] = [];
  const planned = new Set(record.steps.keys());
  for (const block of document.blocks) {
    if (block.role === 'rollback' || !planned.has(block.stepId)) continue;
    const runs = record.blocks.get(block.id) ?? [];
    const last = runs.at(-1);
    const seconds = runs.reduce((sum, run) => sum + (run.durationMs ?? 0), 0) / 1000;
    const output = runs.flatMap((run) => run.output);
    const step = record.steps.get(block.stepId);
    const classname = `${document.repoPath} ${block.stepId}`;
    if (!last) {
      // A step refused before its block ran (declined) failed all the same.
      if (block.role === 'step' && step?.failure) cases.push({ block, classname, seconds, output, failure: step.failure });
      else cases.push({ block, classname, seconds, output, skipped: whyNotRun(block, step, record) });
    } else if (last.status === 'running') cases.push({ block, classname, seconds, output, error: 'did not end: the record ends while it ran' });
    // The step's case is the step's outcome (a failed verify fails it too); verify and expect cases are their block's.
    else cases.push({ block, classname, seconds, output, failure: block.role === 'step' ? step?.failure : last.failure });
  }
  for (const rollback of record.rollbacks) {
    const block = document.blocks.find((candidate) => candidate.id === rollback.blockId);
    if (!block) continue;
    const output = (record.blocks.get(block.id) ?? []).flatMap((run) => run.output);
    const classname = `${document.repoPath} rollbacks`;
    const seconds = rollback.durationMs / 1000;
    if (rollback.status === 'skipped') cases.push({ block, classname, seconds, output, skipped: 'not run: an earlier rollback failed' });
    else if (rollback.status === 'running') cases.push({ block, classname, seconds, output, error: 'did not end: the record ends while it ran' });
    else cases.push({ block, classname, seconds, output, failure: rollback.failure });
  }
  return cases;
}

/** JUnit XML (`OUT/junit.xml`): each case carries `FILE:LINE` (the path from the repository root) in `file`/`line` and its name. */
export function junitReporter(outDir: string): Reporter {
  const builder = new RecordBuilder();
  return {
    name: 'junit',
    onEvent: (event) => builder.apply(event),
    close() {
      const record = builder.record();
      if (!record) return;
      const file = record.begin.document.repoPath;
      const all = junitCases(record);
      const testcase = all.map((entry) => ({
        '@_name': `${entry.block.id} (${file}:${entry.block.span.start.line})`,
        '@_classname': entry.classname,
        '@_file': file,
        '@_line': entry.block.span.start.line,
        '@_time': entry.seconds.toFixed(3),
        ...(entry.skipped !== undefined ? { skipped: { '@_message': entry.skipped } } : {}),
        ...(entry.error !== undefined ? { error: { '@_message': entry.error } } : {}),
        ...(entry.failure
          ? { failure: { '@_message': messageLines(entry.failure, file)[0], '@_type': entry.failure.ruleId ?? 'run-error', '#text': messageLines(entry.failure, file).join('\n') } }
          : {}),
        ...(entry.output.length ? { 'system-out': entry.output.join('\n') } : {}),
      }));
      const xml = new XMLBuilder({ ignoreAttributes: false, format: true, suppressEmptyNode: true }).build({
        '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
        testsuites: {
          '@_name': `runbook ${file}`,
          testsuite: {
            '@_name': `${file} on ${record.begin.target}`,
            '@_id': record.begin.runId,
            '@_tests': all.length,
            '@_failures': all.filter((entry) => entry.failure).length,
            '@_errors': all.filter((entry) => entry.error !== undefined).length,
            '@_skipped': all.filter((entry) => entry.skipped !== undefined).length,
            '@_time': ((record.end?.durationMs ?? 0) / 1000).toFixed(3),
            '@_timestamp': record.begin.time,
            testcase,
          },
        },
      }) as string;
      mkdirSync(outDir, { recursive: true });
      writeFileSync(path.join(outDir, 'junit.xml'), xml, { mode: 0o600 });
    },
  };
}
