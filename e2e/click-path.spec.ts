import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadRunbook } from '../runner/load.ts';
import { ClickPathError, followClickPath, introLine, parseClickPath } from './click-path.ts';
import { expect, test } from './fixtures.ts';

const runbookFile = path.resolve(import.meta.dirname, '..', 'runbook.md');
const source = readFileSync(runbookFile, 'utf8');
const lineOf = (text: string) => source.split('\n').findIndex((line) => line.includes(text)) + 1;

async function createSecretStep() {
  const step = (await loadRunbook(runbookFile)).steps.find((candidate) => candidate.id === 'create-secret');
  if (!step) throw new Error('runbook.md has no create-secret step');
  return step;
}

test('reads the portal click path of Step 1 from its prose, each label with its line', async () => {
  const step = await createSecretStep();
  const actions = parseClickPath(step.intro, { file: 'runbook.md', line: introLine(source, step) });
  expect(actions.map(({ label, kind, value }) => [label, kind, value])).toEqual([
    ['App registrations', 'control', undefined],
    ['Curate-Me Agent Identity', 'control', undefined],
    ['Certificates & secrets', 'control', undefined],
    ['Client secrets', 'tab', undefined],
    ['+ New client secret', 'control', undefined],
    ['Description', 'field', 'graph-secret-<YYYY-MM>'],
    ['Expires', 'field', '180 days'],
    ['Add', 'control', undefined],
    ['Value', 'control', undefined],
    ['Copy to clipboard', 'control', undefined],
    ['Value', 'column', undefined],
  ]);
  expect(actions.find((action) => action.label === 'Add')?.line).toBe(lineOf('Click **Add**.'));
});

test('fails naming the runbook line when the prose names a tab the portal does not have', async ({ page, sandbox }) => {
  const step = await createSecretStep();
  const doctored = step.intro.replace('the **Client secrets** tab', 'the **Client credentials** tab');
  expect(doctored).not.toBe(step.intro);
  const actions = parseClickPath(doctored, { file: 'runbook.md', line: introLine(source, step) });

  await page.goto(sandbox.facts.portal as string);
  const error = await followClickPath(page, actions, { timeoutMs: 1_000 }).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ClickPathError);
  expect((error as Error).message).toContain(`runbook.md:${lineOf('then the **Client secrets** tab')}: portal has no "Client credentials"`);
  // It got as far as the prose was right: the labels before the renamed one were all found and clicked.
  await expect(page.getByRole('tab', { name: /^Client secrets/ })).toBeVisible();
});
