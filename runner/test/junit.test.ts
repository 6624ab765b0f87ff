import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { escapeRegExp } from '../../common/regexp.ts';
import { runFile } from '../run.ts';
import { junitReporter } from '../report/junit.ts';
import { collector, fence, writeRunbook } from './helpers.ts';
import { assertXml10 } from './xml10.ts';

interface Attributes {
  [name: `@_${string}`]: string;
}
interface Testcase extends Attributes {
  failure?: Attributes & { '#text': string };
  error?: Attributes;
  skipped?: Attributes;
  'system-out'?: string;
}
interface Report {
  testsuites: Attributes & { testsuite: Attributes & { testcase: Testcase | Testcase[] } };
}

/** Reads junit.xml back as a CI reader would: entities and character references decoded, values left as text. */
function readReport(xml: string): Report {
  return new XMLParser({ ignoreAttributes: false, parseTagValue: false, htmlEntities: true, isArray: (name) => name === 'testcase' }).parse(xml) as Report;
}

/** Runs `source` as `name` in a repository of its own (so reports name the document by `name`) and returns junit.xml. */
async function junitOf(source: string, name: string): Promise<string> {
  const file = await writeRunbook(source, name);
  mkdirSync(path.join(path.dirname(file), '.git'));
  const out = path.join(path.dirname(file), 'out');
  await runFile({ file, reporters: [junitReporter(out)] });
  return readFileSync(path.join(out, 'junit.xml'), 'utf8');
}

describe('JUnit XML', () => {
  it('escapes & < > " \' in names, messages and output, and writes the characters XML 1.0 forbids as visible escapes', async () => {
    const name = `r&b <'q'> "x".md`;
    const xml = await junitOf(
      [
        '---',
        'targets:',
        `  'p&<q>"x': { host: example }`,
        '  other: { host: elsewhere }',
        `default-target: 'p&<q>"x'`,
        '---',
        '# Colours',
        `${fence}ts step`,
        String.raw`console.log('\x1b[32m✔\x1b[0m ok & <b>"q"</b> \'s\' ]]>')`,
        String.raw`console.log('nul\x00 bell\x07 vt\x0b ff\x0c us\x1f del\x7f nonchars\ufffe\uffff tab\tcr\rend')`,
        String.raw`throw new Error('bad\x00\x07 & <x> "q" \'a\'')`,
        fence,
        '# Elsewhere',
        `${fence}ts step when=other`,
        fence,
        '',
      ].join('\n'),
      name,
    );
    // A strict reader (CI's) refuses a file with a NUL or an ESC in it: the whole report would be lost.
    assertXml10(xml);
    // Colour codes stay readable where they were printed.
    assert.ok(xml.includes(String.raw`\x1b[32m✔\x1b[0m ok`), xml);
    const suite = readReport(xml).testsuites.testsuite;
    assert.equal(suite['@_name'], `${name} on p&<q>"x`);
    const [colours, elsewhere] = suite.testcase as Testcase[];
    assert.equal(colours?.['@_name'], `colours (${name}:8)`);
    assert.equal(colours?.['@_classname'], `${name} colours`);
    assert.equal(colours?.['@_file'], name);
    assert.equal(
      colours?.['system-out'],
      [String.raw`\x1b[32m✔\x1b[0m ok & <b>"q"</b> 's' ]]>`, String.raw`nul\x00 bell\x07 vt\x0b ff\x0c us\x1f del` + '\x7f' + String.raw` nonchars\ufffe\uffff tab` + '\tcr\rend'].join('\n'),
    );
    // The message is the first line of the failure's text (here its only one), at the block's place in the document.
    const message = colours?.failure?.['@_message'] ?? '';
    assert.match(message, new RegExp(`^${escapeRegExp(name)}:[-:\\d]+: ${escapeRegExp(String.raw`bad\x00\x07 & <x> "q" 'a' [run-error]`)}$`));
    assert.equal(colours?.failure?.['@_type'], 'run-error');
    assert.equal(colours?.failure?.['#text'], message);
    assert.deepEqual(elsewhere?.skipped, { '@_message': 'skipped: when=other (target p&<q>"x)' });
  });

  it('writes empty elements closed: a document without steps, a step that printed an empty line', async () => {
    const none = await junitOf('# Nothing\n\nJust prose.\n', 'rb.md');
    assertXml10(none);
    assert.match(none, /^ {2}<testsuite name="rb\.md on local" id="[^"]+" tests="0" failures="0" errors="0" skipped="0" time="[\d.]+" timestamp="[^"]+"\/>$/m);
    const quiet = await junitOf(`# Quiet\n${fence}ts step\nconsole.log('')\n${fence}\n`, 'rb.md');
    assertXml10(quiet);
    assert.match(quiet, /^ {4}<testcase name="quiet \(rb\.md:2\)"[^>]*>\n {6}<system-out\/>\n {4}<\/testcase>$/m);
  });

  it('reports a block the record ends in (a killed run) as an error, and the steps after it as not reached', async () => {
    const file = await writeRunbook(`# First\n${fence}ts step\nconsole.log('half')\n${fence}\n# Second\n${fence}ts step\n${fence}\n`);
    mkdirSync(path.join(path.dirname(file), '.git'));
    const events = collector();
    await runFile({ file, reporters: [events] });
    // The record of a run killed while `first` ran: its journal ends after the block's output.
    const cut = events.events.findIndex((event) => event.kind === 'block-end');
    const out = path.join(path.dirname(file), 'out');
    const reporter = junitReporter(out);
    for (const event of events.events.slice(0, cut)) reporter.onEvent?.(event);
    await reporter.close?.();
    const xml = readFileSync(path.join(out, 'junit.xml'), 'utf8');
    assertXml10(xml);
    const suite = readReport(xml).testsuites.testsuite;
    assert.deepEqual([suite['@_tests'], suite['@_failures'], suite['@_errors'], suite['@_skipped']], ['2', '0', '1', '1']);
    const [first, second] = suite.testcase as Testcase[];
    assert.deepEqual(first?.error, { '@_message': 'did not end: the record ends while it ran' });
    assert.equal(first?.['system-out'], 'half');
    assert.deepEqual(second?.skipped, { '@_message': 'not reached: the record ends before this step' });
  });
});
