import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Journal, readJournal } from './journal.ts';

async function openJournal(): Promise<{ journal: Journal; lines: () => string[] }> {
  const workspace = await mkdtemp(path.join(os.tmpdir(), 'runbook-journal-'));
  const journal = new Journal(workspace, { runId: 'r1', file: 'rb.md', yes: false, automate: false, startedAt: new Date().toISOString() });
  // Read synchronously: an await would give the end-of-turn write its chance, and hide a missing durable write.
  const lines = () => readFileSync(path.join(journal.dir, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean);
  return { journal, lines };
}

const output = (text: string) => ({ kind: 'output', stepId: 's1', role: 'step', stream: 'stdout', text }) as const;
const begin = (stepId: string) => ({ kind: 'step-begin', stepId, title: stepId, line: 1, attempt: 1 }) as const;

describe('journal', () => {
  it('writes a durable event, and everything before it, before append returns', async () => {
    const { journal, lines } = await openJournal();
    journal.append(output('one'));
    journal.append(output('two'));
    journal.append(begin('s2'));
    // No turn of the event loop has passed: only the durable event can have written them.
    assert.deepEqual(lines().map((line) => JSON.parse(line).kind), ['output', 'output', 'step-begin']);
    journal.close();
  });

  it('writes other events by the end of the turn they were appended in', async () => {
    const { journal, lines } = await openJournal();
    journal.append(output('one'));
    journal.append(output('two'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(lines().map((line) => JSON.parse(line).text), ['one', 'two']);
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
