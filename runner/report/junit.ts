import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { XMLBuilder } from 'fast-xml-parser';
import type { Failure, Reporter, RunEvent } from './events.ts';
import { failureLines } from './format.ts';

interface Case {
  id: string;
  title: string;
  line: number;
  status: string;
  seconds: number;
  output: string[];
  failure?: Failure;
  skipReason?: string;
}

/** JUnit XML: one testcase per step, carrying `runbook.md:LINE` in `file`/`line` and in its name for CI UIs. */
export function junitReporter(outDir: string): Reporter {
  const cases = new Map<string, Case>();
  let file = 'runbook.md';
  let runId = '';
  let target = '';
  let totalSeconds = 0;
  const ensure = (id: string, title: string, line: number) => {
    let entry = cases.get(id);
    if (!entry) {
      entry = { id, title, line, status: 'pending', seconds: 0, output: [] };
      cases.set(id, entry);
    }
    return entry;
  };
  return {
    name: 'junit',
    'on:run-begin'(event) {
      ({ file, runId, target } = event);
      for (const step of event.steps) ensure(step.id, step.title, step.line);
    },
    'on:step-skip'(event) {
      Object.assign(ensure(event.stepId, event.title, event.line), { status: 'skipped', skipReason: event.reason });
    },
    'on:output'(event) {
      cases.get(event.stepId)?.output.push(`${event.role === 'step' ? '' : `[${event.role}] `}${event.text}`);
    },
    'on:step-end'(event) {
      Object.assign(ensure(event.stepId, event.title, event.line), { status: event.status, seconds: event.durationMs / 1000, failure: event.failure });
    },
    'on:run-end'(event: Extract<RunEvent, { kind: 'run-end' }>) {
      totalSeconds = event.durationMs / 1000;
    },
    close() {
      const all = [...cases.values()];
      const testcase = all.map((entry) => ({
        '@_name': `${entry.id} (${file}:${entry.line})`,
        '@_classname': file,
        '@_file': file,
        '@_line': entry.line,
        '@_time': entry.seconds.toFixed(3),
        ...(entry.status === 'skipped' || entry.status === 'pending' ? { skipped: { '@_message': entry.skipReason ?? 'not reached' } } : {}),
        ...(entry.failure
          ? { failure: { '@_message': `${file}:${entry.failure.location.line}: ${entry.failure.message}`, '@_type': entry.failure.kind, '#text': failureLines(entry.failure).join('\n') } }
          : {}),
        ...(entry.output.length ? { 'system-out': entry.output.join('\n') } : {}),
      }));
      const xml = new XMLBuilder({ ignoreAttributes: false, format: true, suppressEmptyNode: true }).build({
        '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
        testsuites: {
          '@_name': `runbook ${file}`,
          testsuite: {
            '@_name': `${file} on ${target}`,
            '@_id': runId,
            '@_tests': all.length,
            '@_failures': all.filter((entry) => entry.status === 'failed' || entry.status === 'interrupted').length,
            '@_skipped': all.filter((entry) => entry.status === 'skipped' || entry.status === 'pending').length,
            '@_time': totalSeconds.toFixed(3),
            testcase,
          },
        },
      }) as string;
      mkdirSync(outDir, { recursive: true });
      writeFileSync(path.join(outDir, 'junit.xml'), xml, { mode: 0o600 });
    },
  };
}
