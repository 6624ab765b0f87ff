import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { runFile } from '../run.ts';
import { githubReporter } from '../report/github.ts';
import { htmlReporter } from '../report/html.ts';
import { jsonReporter } from '../report/json.ts';
import { junitReporter } from '../report/junit.ts';
import { markdownReporter } from '../report/markdown.ts';
import { plainReporter } from '../report/plain.ts';
import { prettyReporter } from '../report/pretty.ts';
import type { RunEvent } from '../report/events.ts';
import { collector, fence, runCli, writeRunbook } from './helpers.ts';
import { assertXml10 } from './xml10.ts';

/** A run with a pass, a `when=` skip, a failed verify (so two rollbacks run), and a step never reached. */
const MIXED = [
  '---',
  'title: Mixed',
  'targets:',
  // A second target, so that the `when=sandbox` step is a real skip on prod, not a typo of a target name.
  '  prod: { host: example }',
  '  sandbox: { host: elsewhere }',
  'default-target: prod',
  '---',
  '# Good',
  `${fence}ts step`,
  "console.log('fine')",
  fence,
  `${fence}ts verify`,
  "expect(result.stdout).toContain('fine')",
  fence,
  `${fence}text expect`,
  'fine',
  fence,
  `${fence}ts rollback`,
  "console.log('undo good')",
  fence,
  '# Elsewhere',
  `${fence}ts step when=sandbox`,
  fence,
  '# Bad',
  `${fence}ts step`,
  "console.log('trying')",
  fence,
  `${fence}ts verify`,
  'expect(1).toBe(2)',
  fence,
  `${fence}ts rollback`,
  "console.log('undo bad')",
  fence,
  '# Never',
  `${fence}ts step`,
  fence,
  '',
].join('\n');

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  unreached: number;
  rollbacksPassed: number;
  rollbacksFailed: number;
  rollbacksNotRun: number;
}

/** Reads the one counts wording back (see formatCounts). */
function parseCounts(text: string): Counts {
  const match = /(\d+) passed, (\d+) failed, (\d+) skipped, (\d+) not reached(?:, \d+ interrupted)?(?:; rollbacks: (\d+) passed, (\d+) failed, (\d+) not run)?/.exec(text);
  assert.ok(match, `no counts in ${text}`);
  const [passed, failed, skipped, unreached, rollbacksPassed, rollbacksFailed, rollbacksNotRun] = match.slice(1).map((value) => Number(value ?? 0));
  return { passed: passed!, failed: failed!, skipped: skipped!, unreached: unreached!, rollbacksPassed: rollbacksPassed!, rollbacksFailed: rollbacksFailed!, rollbacksNotRun: rollbacksNotRun! };
}

function textSink(): { write: (text: string) => void; text: () => string } {
  let all = '';
  return { write: (text) => (all += text), text: () => all };
}

function ttyStream(): NodeJS.WriteStream & { text(): string } {
  let all = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      all += chunk.toString();
      done();
    },
  }) as unknown as NodeJS.WriteStream & { text(): string };
  Object.assign(stream, { isTTY: true, columns: 120, rows: 40, text: () => all });
  return stream;
}

interface JunitCase {
  '@_name': string;
  '@_classname': string;
  '@_line': string;
  failure?: { '@_message': string; '@_type': string };
  skipped?: { '@_message': string };
}

async function runMixed() {
  const file = await writeRunbook(MIXED);
  const dir = path.dirname(file);
  const out = path.join(dir, 'out');
  const plain = textSink();
  const json = textSink();
  const github = textSink();
  const pretty = ttyStream();
  const previous = process.env['GITHUB_WORKSPACE'];
  process.env['GITHUB_WORKSPACE'] = dir;
  try {
    const result = await runFile({
      file,
      reporters: [plainReporter(plain.write), prettyReporter(pretty), jsonReporter(json.write), githubReporter(out, github.write), junitReporter(out), markdownReporter(out), htmlReporter(out)],
    });
    return { result, file, dir, out, plain: plain.text(), json: json.text(), github: github.text(), pretty: stripVTControlCharacters(pretty.text()) };
  } finally {
    if (previous === undefined) delete process.env['GITHUB_WORKSPACE'];
    else process.env['GITHUB_WORKSPACE'] = previous;
  }
}

describe('reports of one run', () => {
  it('agree on the counts: plain, pretty, json, junit, markdown, html and github', async () => {
    const run = await runMixed();
    assert.equal(run.result.exitCode, 1);
    const expected: Counts = { passed: 1, failed: 1, skipped: 1, unreached: 1, rollbacksPassed: 2, rollbacksFailed: 0, rollbacksNotRun: 0 };
    const events = run.json.trim().split('\n').map((line) => JSON.parse(line) as RunEvent);
    const end = events.find((event): event is Extract<RunEvent, { kind: 'run-end' }> => event.kind === 'run-end')!;
    const fromJson: Counts = {
      ...end.counts,
      rollbacksPassed: end.rollbacks.passed,
      rollbacksFailed: end.rollbacks.failed,
      rollbacksNotRun: end.rollbacks.skipped,
    };
    delete (fromJson as unknown as Record<string, number>)['interrupted'];

    const cases = (new XMLParser({ ignoreAttributes: false }).parse(readFileSync(path.join(run.out, 'junit.xml'), 'utf8')) as {
      testsuites: { testsuite: { testcase: JunitCase[] } };
    }).testsuites.testsuite.testcase;
    const steps = cases.filter((entry) => !entry['@_name'].split(' ')[0]!.includes('/'));
    const rollbacks = cases.filter((entry) => entry['@_classname'].endsWith(' rollbacks'));
    const fromJunit: Counts = {
      passed: steps.filter((entry) => !entry.failure && !entry.skipped).length,
      failed: steps.filter((entry) => entry.failure).length,
      skipped: steps.filter((entry) => entry.skipped?.['@_message'].startsWith('skipped:')).length,
      unreached: steps.filter((entry) => entry.skipped?.['@_message'].startsWith('not reached')).length,
      rollbacksPassed: rollbacks.filter((entry) => !entry.failure && !entry.skipped).length,
      rollbacksFailed: rollbacks.filter((entry) => entry.failure).length,
      rollbacksNotRun: rollbacks.filter((entry) => entry.skipped).length,
    };
    const html = readFileSync(path.join(run.out, 'rb.executed.html'), 'utf8');
    const all = {
      plain: parseCounts(run.plain.trim().split('\n').at(-1)!),
      pretty: parseCounts(run.pretty.trim().split('\n').at(-1)!),
      json: fromJson,
      junit: fromJunit,
      markdown: parseCounts(/^> - Counts: (.*)$/m.exec(readFileSync(path.join(run.out, 'rb.executed.md'), 'utf8'))![1]!),
      html: parseCounts(/<dd data-fact="counts">([^<]*)<\/dd>/.exec(html)![1]!),
      github: parseCounts(/^\*\*failed\*\*: (.*)$/m.exec(readFileSync(path.join(run.out, 'github-summary.md'), 'utf8'))![1]!),
    };
    for (const [name, counts] of Object.entries(all)) assert.deepEqual(counts, expected, name);
  });

  it('gives JUnit a case per step, verify and expect, skips with their reason, rollbacks in the order they ran', async () => {
    const run = await runMixed();
    const cases = (new XMLParser({ ignoreAttributes: false }).parse(readFileSync(path.join(run.out, 'junit.xml'), 'utf8')) as {
      testsuites: { testsuite: { testcase: JunitCase[] } };
    }).testsuites.testsuite.testcase;
    const outcome = (entry: JunitCase) => entry.failure?.['@_message'] ?? (entry.skipped ? `skipped: ${entry.skipped['@_message']}` : 'passed');
    assert.deepEqual(
      cases.map((entry) => `${entry['@_name']} ${outcome(entry)}`),
      [
        'good (rb.md:9) passed',
        'good/verify-1 (rb.md:12) passed',
        'good/expect-1 (rb.md:15) passed',
        'elsewhere (rb.md:22) skipped: skipped: when=sandbox (target prod)',
        'bad (rb.md:25) rb.md:29:11: expect(received).toBe(expected) // Object.is equality [run-verify]',
        'bad/verify-1 (rb.md:28) rb.md:29:11: expect(received).toBe(expected) // Object.is equality [run-verify]',
        'never (rb.md:35) skipped: not reached: the run stopped at `bad` before this step',
        'bad/rollback (rb.md:31) passed',
        'good/rollback (rb.md:18) passed',
      ],
    );
  });

  it('writes JUnit XML that reads back to the whole run: suite and counts, each case with its place, failures with their text, skips, output', async () => {
    const run = await runMixed();
    const xml = readFileSync(path.join(run.out, 'junit.xml'), 'utf8');
    assertXml10(xml);
    const begin = run.json
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RunEvent)
      .find((event): event is Extract<RunEvent, { kind: 'run-begin' }> => event.kind === 'run-begin')!;
    // Durations vary from run to run: checked for their form, then set aside.
    const time = (seconds: string) => (assert.match(seconds, /^\d+\.\d{3}$/), 'TIME');
    const read = JSON.parse(
      JSON.stringify(new XMLParser({ ignoreAttributes: false, parseTagValue: false, htmlEntities: true }).parse(xml)),
      (key, value: unknown) => (key === '@_time' && typeof value === 'string' ? time(value) : value),
    ) as unknown;
    const testcase = (id: string, line: number, classname: string, inside: object = {}) => ({
      '@_name': `${id} (rb.md:${line})`,
      '@_classname': `rb.md ${classname}`,
      '@_file': 'rb.md',
      '@_line': String(line),
      '@_time': 'TIME',
      ...inside,
    });
    const verifyFailed = 'rb.md:29:11: expect(received).toBe(expected) // Object.is equality [run-verify]';
    const failure = { '@_message': verifyFailed, '@_type': 'run-verify', '#text': `${verifyFailed}\n    Expected: 2\n    Received: 1` };
    assert.deepEqual(read, {
      '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
      testsuites: {
        '@_name': 'runbook rb.md',
        testsuite: {
          '@_name': 'rb.md on prod',
          '@_id': run.result.runId,
          '@_tests': '9',
          '@_failures': '2',
          '@_errors': '0',
          '@_skipped': '2',
          '@_time': 'TIME',
          '@_timestamp': begin.time,
          testcase: [
            testcase('good', 9, 'good', { 'system-out': 'fine' }),
            testcase('good/verify-1', 12, 'good'),
            testcase('good/expect-1', 15, 'good'),
            testcase('elsewhere', 22, 'elsewhere', { skipped: { '@_message': 'skipped: when=sandbox (target prod)' } }),
            testcase('bad', 25, 'bad', { failure, 'system-out': 'trying' }),
            testcase('bad/verify-1', 28, 'bad', { failure }),
            testcase('never', 35, 'never', { skipped: { '@_message': 'not reached: the run stopped at `bad` before this step' } }),
            testcase('bad/rollback', 31, 'rollbacks', { 'system-out': 'undo bad' }),
            testcase('good/rollback', 18, 'rollbacks', { 'system-out': 'undo good' }),
          ],
        },
      },
    });
  });

  it('annotates failures for GitHub at the path from the repository root', async () => {
    const run = await runMixed();
    assert.deepEqual(run.github.trim().split('\n'), [
      '::error file=rb.md,line=29,col=11,title=step bad failed::expect(received).toBe(expected) // Object.is equality [run-verify]%0AExpected: 2%0AReceived: 1',
    ]);
  });

  it('writes the executed runbook over the document: header, each block with start, duration, output, notes', async () => {
    const run = await runMixed();
    const executed = readFileSync(path.join(run.out, 'rb.executed.md'), 'utf8');
    // The document is all there, in order, with the record between its blocks.
    const withoutRecord = executed
      .slice(0, executed.indexOf('\n\n## Rollbacks, in the order they ran'))
      .split('\n')
      .filter((line) => !line.startsWith('>'))
      .join('\n')
      .replace(/\n{2,}/g, '\n');
    assert.equal(withoutRecord, MIXED.replace(/\n{2,}/g, '\n'));
    assert.match(executed, /^> - Operator: \S+ .*\(identified by OS user.*\)$/m);
    assert.match(executed, /^> - Document: rb\.md, sha256 [0-9a-f]{64}$/m);
    assert.match(executed, /^> - Tool: runbook \d+\.\d+\.\d+ \(node v\d+/m);
    assert.match(executed, /console\.log\('fine'\)\n```\n\n> \*\*✔ step passed · started \d{4}-\d\d-\d\dT[\d:.]+Z · \d+ms · `good`\*\*\n>\n> ````?text\n> fine\n> ````?\n/);
    assert.match(executed, /> \*\*↷ skipped: when=sandbox \(target prod\) · `elsewhere`\*\*/);
    assert.match(executed, /> \*\*↷ not reached: the run stopped at `bad` before this step · `never`\*\*/);
    assert.match(executed, /> \*\*✔ rollback passed · 1st rollback to run · started .* · `bad\/rollback`\*\*/);
    assert.match(executed, /> \*\*✔ rollback passed · 2nd rollback to run · started .* · `good\/rollback`\*\*/);
    assert.match(executed, /## Rollbacks, in the order they ran\n\n1\. `bad\/rollback` passed · started .*\n2\. `good\/rollback` passed/);
  });

  it('records that the sandbox, not a person, answered its confirm and manual steps', async () => {
    const file = await writeRunbook(
      `---\ntargets:\n  sandbox:\n    sandbox: true\ndefault-target: sandbox\n---\n# Edit\n${fence}ts step confirm\n${fence}\n# Click\n\nClick **Add**.\n\n${fence}ts step manual\n${fence}\n`,
    );
    const out = path.join(path.dirname(file), 'out');
    const plain = textSink();
    const events = collector();
    const result = await runFile({ file, reporters: [events, plainReporter(plain.write), markdownReporter(out)], sandbox: async () => ({ facts: {}, release: async () => {} }) });
    assert.equal(result.exitCode, 0);
    assert.deepEqual(events.of('operator').map((event) => [event.stepId, event.action, event.answer, event.by.kind]), [
      ['edit', 'confirm', 'yes', 'sandbox'],
      ['click', 'manual', 'automate', 'sandbox'],
    ]);
    assert.match(plain.text(), /^ {2}\? edit: confirmation yes, answered by sandbox automation$/m);
    assert.match(readFileSync(path.join(out, 'rb.executed.md'), 'utf8'), /> \*\*\? operator action: automate · answered by sandbox automation · \S+\*\*/);
  });

  it('records the operator who answered at the terminal, and --yes when the flag answered', async () => {
    const source = `---\ntargets:\n  prod:\n    host: x\ndefault-target: prod\n---\n# Edit\n${fence}ts step confirm\n${fence}\n`;
    const asked = collector();
    await runFile({ file: await writeRunbook(source), reporters: [asked], interaction: { interactive: true, confirm: async () => true, manual: async () => 'done' } });
    const answered = asked.of('operator').filter((event) => event.answer !== '');
    assert.equal(answered[0]?.by.kind, 'operator');
    assert.ok(answered[0]?.by.kind === 'operator' && answered[0].by.operator.name.length > 0);
    const flagged = collector();
    await runFile({ file: await writeRunbook(source), reporters: [flagged], yes: true });
    assert.deepEqual(flagged.of('operator').map((event) => event.by.kind), ['yes-flag']);
  });
});

describe('one live view on stdout', () => {
  it('refuses two reporters on stdout, and file reporters without --out', async () => {
    const file = await writeRunbook(`# A\n${fence}ts step\n${fence}\n`);
    const two = await runCli(['run', file, '--reporter', 'plain,json'], { cwd: path.dirname(file) });
    assert.equal(two.code, 2);
    assert.match(two.stderr, /^runbook run: reporters plain and json would both write to stdout, expected at most one/m);
    const noOut = await runCli(['run', file, '--reporter', 'junit'], { cwd: path.dirname(file) });
    assert.equal(noOut.code, 2);
    assert.match(noOut.stderr, /^runbook run: reporter junit writes files, expected --out DIR$/m);
  });

  it('falls back from pretty to plain without a terminal, never writing cursor codes into a pipe', async () => {
    const file = await writeRunbook(`# A\n${fence}ts step\nconsole.log('hi')\n${fence}\n`);
    const result = await runCli(['run', file, '--reporter', 'pretty'], { cwd: path.dirname(file) });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, stripVTControlCharacters(result.stdout));
    assert.match(result.stdout, /^ {2}│ hi$/m);
    assert.match(result.stderr, /pretty needs a terminal; using plain/);
  });
});
