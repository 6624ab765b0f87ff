import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../common/diagnostics.ts';
import { Journal, readJournal } from './journal.ts';

async function openJournal(): Promise<{ journal: Journal; lines: () => string[] }> {
  const workspace = await mkdtemp(path.join(os.tmpdir(), 'runbook-journal-'));
  const journal = new Journal(workspace, { runId: 'r1', file: 'rb.md', yes: false, automate: false, startedAt: new Date().toISOString() });
  // Read synchronously: an await would give the end-of-turn write its chance, and hide a missing durable write.
  const lines = () => readFileSync(path.join(journal.dir, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean);
  return { journal, lines };
}

const output = (text: string) => ({ kind: 'output', blockId: 's1', stepId: 's1', role: 'step', stream: 'stdout', text }) as const;
const begin = (stepId: string) => ({ kind: 'step-begin', stepId, attempt: 1, time: '2026-12-03T00:00:00.000Z' }) as const;

describe('journal', () => {
  it('writes a durable event, and everything before it, before append returns', async () => {
    const { journal, lines } = await openJournal();
    journal.append(output('one'));
    journal.append(output('two'));
    journal.append(begin('s2'));
    // No turn of the event loop has passed: only the durable event can have written them.
    assert.deepEqual(lines().map((line) => JSON.parse(line).event.kind), ['output', 'output', 'step-begin']);
    journal.close();
  });

  it('writes other events by the end of the turn they were appended in', async () => {
    const { journal, lines } = await openJournal();
    journal.append(output('one'));
    journal.append(output('two'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(lines().map((line) => JSON.parse(line).event.text), ['one', 'two']);
    journal.close();
  });

  it('writes what is pending when closed, and ignores what comes after', async () => {
    const { journal } = await openJournal();
    journal.append(output('last words'));
    journal.close();
    journal.append(output('too late'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(readJournal(journal.dir).events.map((event) => (event as { text?: string }).text), ['last words']);
  });
});

describe('journal chain', () => {
  const journalFile = (journal: Journal) => path.join(journal.dir, 'journal.jsonl');

  it('links every line to the one before, across a reopen (resume)', async () => {
    const { journal } = await openJournal();
    journal.append(begin('s1'));
    journal.append(output('one'));
    journal.close();
    const again = new Journal(path.dirname(path.dirname(path.dirname(journal.dir))), { runId: 'r1', file: 'rb.md', yes: false, automate: false, startedAt: '' });
    again.append(begin('s2'));
    again.close();
    const record = readJournal(journal.dir);
    assert.equal(record.broken, undefined);
    assert.deepEqual(record.events.map((event) => event.kind), ['step-begin', 'output', 'step-begin']);
  });

  it('breaks at an edited line, naming it', async () => {
    const { journal } = await openJournal();
    journal.append(begin('s1'));
    journal.append(output('one'));
    journal.append(begin('s2'));
    journal.close();
    const text = await readFile(journalFile(journal), 'utf8');
    await writeFile(journalFile(journal), text.replace('"one"', '"uno"'));
    const record = readJournal(journal.dir);
    assert.match(formatDiagnostic(record.broken!), /journal\.jsonl:3:1: Unexpected link `[0-9a-f]{12}…`, expected `[0-9a-f]{12}…` \(the digest of the line before\) \[journal-chain\]$/);
    assert.equal(record.events.length, 2);
  });

  it('sees bytes appended by someone else, and its next line breaks the chain there', async () => {
    const { journal } = await openJournal();
    journal.append(begin('s1'));
    // A forger who even computes the right link for its line.
    const last = (await readFile(journalFile(journal), 'utf8')).trim().split('\n').at(-1)!;
    const prev = createHash('sha256').update(last).digest('hex');
    await appendFile(journalFile(journal), `${JSON.stringify({ prev, event: { kind: 'step-end', stepId: 's1', status: 'passed', durationMs: 1 } })}\n`);
    journal.append(begin('s2'));
    journal.close();
    assert.ok(journal.foreignBytes > 0);
    assert.equal(formatDiagnostic(readJournal(journal.dir).broken!).split(':')[1], '3');
  });

  it('cuts off a torn last line when reopened, so the next line is whole', async () => {
    const { journal } = await openJournal();
    journal.append(begin('s1'));
    journal.close();
    await appendFile(journalFile(journal), '{"prev":"abc","event":{"kind":"step-be');
    assert.equal(readJournal(journal.dir).broken, undefined);
    const again = new Journal(path.dirname(path.dirname(path.dirname(journal.dir))), { runId: 'r1', file: 'rb.md', yes: false, automate: false, startedAt: '' });
    again.append(begin('s2'));
    again.close();
    const record = readJournal(journal.dir);
    assert.equal(record.broken, undefined);
    assert.equal(record.events.length, 2);
  });
});
