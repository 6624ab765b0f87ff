import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendFile, chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { formatDiagnostic } from '../../common/diagnostics.ts';
import type { RunEvent } from '../report/events.ts';
import { Journal, readJournal } from './journal.ts';

const meta = { runId: 'r1', file: 'rb.md', yes: false, automate: false, startedAt: '2026-12-03T00:00:00.000Z' };

/** A writer's first line, as a run or a resume writes it. */
const runBegin = (resumed: boolean) =>
  ({
    kind: 'run-begin',
    runId: 'r1',
    file: 'rb.md',
    target: 'local',
    sandbox: false,
    steps: [],
    document: { repoPath: 'rb.md', digest: '', title: 'T', blocks: [] },
    provenance: { operator: { name: 'op', identifiedBy: 'OS user' }, host: 'h', tool: 'runbook 0', node: 'v20' },
    time: '2026-12-03T00:00:00.000Z',
    resumed,
  }) as unknown as RunEvent;

/** Opens the journal of run r1 in `workspace` (a new one by default) as a runner does: its first line is a run-begin. */
async function openJournal(workspace?: string): Promise<{ journal: Journal; lines: () => string[] }> {
  const resumed = workspace !== undefined;
  workspace ??= await mkdtemp(path.join(os.tmpdir(), 'runbook-journal-'));
  const journal = new Journal(workspace, meta);
  journal.append(runBegin(resumed));
  // Read synchronously: an await would give the end-of-turn write its chance, and hide a missing durable write.
  const lines = () => readFileSync(path.join(journal.dir, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).slice(1);
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

  it("writes a block's begin before append returns, for whatever reads the journal while the block runs", async () => {
    const { journal, lines } = await openJournal();
    journal.append(output('one'));
    journal.append({ kind: 'block-begin', blockId: 's2', stepId: 's2', role: 'step', time: '2026-12-03T00:00:00.000Z' });
    assert.deepEqual(lines().map((line) => JSON.parse(line).event.kind), ['output', 'block-begin']);
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
    assert.deepEqual(readJournal(journal.dir).events.slice(1).map((event) => (event as { text?: string }).text), ['last words']);
  });
});

describe('journal chain', () => {
  const journalFile = (journal: Journal) => path.join(journal.dir, 'journal.jsonl');
  const workspaceOf = (journal: Journal) => path.dirname(path.dirname(path.dirname(journal.dir)));
  const lastLine = async (journal: Journal) => (await readFile(journalFile(journal), 'utf8')).trim().split('\n').at(-1)!;
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

  it('links every line to the one before, across a reopen (resume)', async () => {
    const { journal } = await openJournal();
    journal.append(begin('s1'));
    journal.append(output('one'));
    journal.close();
    const { journal: again } = await openJournal(workspaceOf(journal));
    again.append(begin('s2'));
    again.close();
    const record = readJournal(journal.dir);
    assert.equal(record.broken, undefined);
    assert.deepEqual(record.events.map((event) => event.kind), ['run-begin', 'step-begin', 'output', 'run-begin', 'step-begin']);
  });

  it('breaks at an edited line, naming it', async () => {
    const { journal } = await openJournal();
    journal.append(begin('s1'));
    journal.append(output('one'));
    journal.append(begin('s2'));
    journal.close();
    const text = await readFile(journalFile(journal), 'utf8');
    await chmod(journalFile(journal), 0o600);
    await writeFile(journalFile(journal), text.replace('"one"', '"uno"'));
    const record = readJournal(journal.dir);
    assert.match(formatDiagnostic(record.broken!), /journal\.jsonl:4:1: Unexpected link `[0-9a-f]{12}…`, expected `[0-9a-f]{12}…` \(the digest of the line before\) \[journal-chain\]$/);
    assert.equal(record.events.length, 3);
  });

  it('sees bytes appended by someone else, and its next line breaks the chain there', async () => {
    const { journal } = await openJournal();
    journal.append(begin('s1'));
    // A forger who even computes the right link for its line.
    const prev = sha256(await lastLine(journal));
    await chmod(journalFile(journal), 0o600); // the file is read-only: a forger makes it writable first
    await appendFile(journalFile(journal), `${JSON.stringify({ prev, event: { kind: 'step-end', stepId: 's1', status: 'passed', durationMs: 1 } })}\n`);
    journal.append(begin('s2'));
    journal.close();
    assert.ok(journal.foreignBytes > 0);
    assert.equal(formatDiagnostic(readJournal(journal.dir).broken!).split(':')[1], '3');
  });

  it('refuses a correctly linked line that the runner did not seal, even when no runner line follows it', async () => {
    const { journal } = await openJournal();
    journal.append(begin('s1'));
    // The forger links its line and copies everything a line of the runner has; what it cannot have is the key the
    // runner's next seal reveals: it was never written anywhere. Then the runner is killed: no line of its follows.
    const last = await lastLine(journal);
    const { next } = JSON.parse(last) as { next: string };
    const forged = { prev: sha256(last), seal: next, next: sha256('mine'), event: { kind: 'step-end', stepId: 's1', status: 'passed', durationMs: 1 } };
    await chmod(journalFile(journal), 0o600);
    await appendFile(journalFile(journal), `${JSON.stringify(forged)}\n`);
    const record = readJournal(journal.dir);
    assert.match(formatDiagnostic(record.broken!), /journal\.jsonl:3:1: Unexpected seal that does not open the runner's last commitment, expected the key committed to by the line before \(a `step-end` line written by something other than the runner\) \[journal-chain\]$/);
    assert.deepEqual(record.events.map((event) => event.kind), ['run-begin', 'step-begin']);
    // Without a seal at all: only a runner's first line (a run-begin) has none.
    await writeFile(journalFile(journal), `${(await readFile(journalFile(journal), 'utf8')).trim().split('\n').slice(0, 2).join('\n')}\n${JSON.stringify({ ...forged, seal: undefined })}\n`);
    assert.match(formatDiagnostic(readJournal(journal.dir).broken!), /journal\.jsonl:3:1: Unexpected line without the runner's seal/);
  });

  it('lets only a resume open a writer\'s segment after the first line', async () => {
    const { journal } = await openJournal();
    journal.append(begin('s1'));
    journal.close();
    const last = await lastLine(journal);
    await chmod(journalFile(journal), 0o600);
    await appendFile(journalFile(journal), `${JSON.stringify({ prev: sha256(last), next: sha256('mine'), event: runBegin(false) })}\n`);
    assert.match(formatDiagnostic(readJournal(journal.dir).broken!), /journal\.jsonl:3:1: Unexpected new run at this line, expected only a resume to begin a writer's segment after the first line/);
  });

  it('keeps the file read-only but to the runner that holds it open', async () => {
    const { journal } = await openJournal();
    assert.equal((await stat(journalFile(journal))).mode & 0o777, 0o400);
    journal.append(begin('s1'));
    journal.close();
    const { journal: again } = await openJournal(workspaceOf(journal));
    again.append(begin('s2'));
    again.close();
    assert.equal((await stat(journalFile(journal))).mode & 0o777, 0o400);
    assert.equal(readJournal(journal.dir).events.length, 4);
  });

  it('cuts off a torn last line when reopened, so the next line is whole', async () => {
    const { journal } = await openJournal();
    journal.append(begin('s1'));
    journal.close();
    await chmod(journalFile(journal), 0o600);
    await appendFile(journalFile(journal), '{"prev":"abc","event":{"kind":"step-be');
    assert.equal(readJournal(journal.dir).broken, undefined);
    const { journal: again } = await openJournal(workspaceOf(journal));
    again.append(begin('s2'));
    again.close();
    const record = readJournal(journal.dir);
    assert.equal(record.broken, undefined);
    assert.equal(record.events.length, 4);
  });
});
