import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BlockInfo, Reporter, RunMessage } from './events.ts';
import { whyNotRun } from './executed.ts';
import { messageLines } from './format.ts';
import { RecordBuilder, type RunRecord } from './record.ts';
import { xmlAttribute, xmlText } from './xml.ts';

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

/**
 * One testcase's lines, added to `lines` (an element with nothing inside is written empty, `<testcase .../>`). Every
 * string from the run goes through `xmlAttribute` or `xmlText`; numbers are written as they are.
 */
function addTestcase(lines: string[], entry: Case, file: string): void {
  const line = entry.block.span.start.line;
  const name = `${entry.block.id} (${file}:${line})`;
  const open = `<testcase name="${xmlAttribute(name)}" classname="${xmlAttribute(entry.classname)}" file="${xmlAttribute(file)}" line="${line}" time="${entry.seconds.toFixed(3)}"`;
  const inside: string[] = [];
  if (entry.skipped !== undefined) inside.push(`<skipped message="${xmlAttribute(entry.skipped)}"/>`);
  if (entry.error !== undefined) inside.push(`<error message="${xmlAttribute(entry.error)}"/>`);
  if (entry.failure) {
    const message = messageLines(entry.failure, file);
    inside.push(`<failure message="${xmlAttribute(message[0]!)}" type="${xmlAttribute(entry.failure.ruleId ?? 'run-error')}">${xmlText(message.join('\n'))}</failure>`);
  }
  if (entry.output.length) {
    const output = entry.output.join('\n');
    inside.push(output === '' ? '<system-out/>' : `<system-out>${xmlText(output)}</system-out>`);
  }
  if (!inside.length) {
    lines.push(`    ${open}/>`);
    return;
  }
  lines.push(`    ${open}>`);
  for (const child of inside) lines.push(`      ${child}`);
  lines.push('    </testcase>');
}

/**
 * The JUnit XML of a run: one testsuite (the document on its target) of the cases `junitCases` lists, each carrying
 * `FILE:LINE` (the path from the repository root) in `file`/`line` and its name.
 */
export function junitXml(record: RunRecord): string {
  const file = record.begin.document.repoPath;
  const all = junitCases(record);
  const name = `${file} on ${record.begin.target}`;
  const failures = all.filter((entry) => entry.failure).length;
  const errors = all.filter((entry) => entry.error !== undefined).length;
  const skipped = all.filter((entry) => entry.skipped !== undefined).length;
  const counts = `tests="${all.length}" failures="${failures}" errors="${errors}" skipped="${skipped}"`;
  const time = ((record.end?.durationMs ?? 0) / 1000).toFixed(3);
  const suite = `<testsuite name="${xmlAttribute(name)}" id="${xmlAttribute(record.begin.runId)}" ${counts} time="${time}" timestamp="${xmlAttribute(record.begin.time)}"`;
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="${xmlAttribute(`runbook ${file}`)}">`];
  if (all.length) {
    lines.push(`  ${suite}>`);
    for (const entry of all) addTestcase(lines, entry, file);
    lines.push('  </testsuite>');
  } else lines.push(`  ${suite}/>`);
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

/** JUnit XML (`OUT/junit.xml`): see `junitXml`. */
export function junitReporter(outDir: string): Reporter {
  const builder = new RecordBuilder();
  return {
    name: 'junit',
    onEvent: (event) => builder.apply(event),
    close() {
      const record = builder.record();
      if (!record) return;
      mkdirSync(outDir, { recursive: true });
      writeFileSync(path.join(outDir, 'junit.xml'), junitXml(record), { mode: 0o600 });
    },
  };
}
