import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import v8 from 'node:v8';
import { describe, it } from 'node:test';
import { RunbookInputError } from '../../common/diagnostics.ts';
import { loadRunbook } from '../load.ts';
import { fence, writeRunbook } from '../test/helpers.ts';

const document = (word: string) =>
  ['# Cached', '', '## Say it', '', `${fence}ts step id=say`, `await $\`echo ${word}\``, fence, '', `${fence}ts verify`, `expect(result.stdout).toBe('${word}\\n')`, fence, ''].join('\n');

async function models(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).filter((name) => name.endsWith('.model'));
}

describe('parse cache (an unchanged document is not parsed again)', () => {
  it('reads back the same model, its shared blocks still shared', async () => {
    const file = await writeRunbook(document('hello'));
    const cache = path.join(path.dirname(file), '.runbook', 'cache');
    const parsed = await loadRunbook(file, cache);
    assert.equal((await models(cache)).length, 1);
    const cached = await loadRunbook(file, cache);
    assert.deepEqual(cached, parsed);
    assert.equal(cached.steps[0]!.block, cached.blocks[0], 'a step and the block list hold the same block');
  });

  it('uses the cached model when there is one', async () => {
    const file = await writeRunbook(document('hello'));
    const cache = path.join(path.dirname(file), '.runbook', 'cache');
    const parsed = await loadRunbook(file, cache);
    const [entry] = await models(cache);
    await writeFile(path.join(cache, entry!), v8.serialize({ ...parsed, headings: [] }));
    assert.deepEqual((await loadRunbook(file, cache)).headings, []);
  });

  it('parses a changed document again', async () => {
    const file = await writeRunbook(document('hello'));
    const cache = path.join(path.dirname(file), '.runbook', 'cache');
    await loadRunbook(file, cache);
    await writeFile(file, document('goodbye'));
    assert.match((await loadRunbook(file, cache)).steps[0]!.block.code, /goodbye/);
    assert.equal((await models(cache)).length, 2);
  });

  it('parses again when the cached model is unreadable', async () => {
    const file = await writeRunbook(document('hello'));
    const cache = path.join(path.dirname(file), '.runbook', 'cache');
    const parsed = await loadRunbook(file, cache);
    const [entry] = await models(cache);
    await writeFile(path.join(cache, entry!), 'not a model');
    assert.deepEqual(await loadRunbook(file, cache), parsed);
  });

  it('never caches a document with errors: each load reports them', async () => {
    const file = await writeRunbook(`${fence}ts verify\nexpect(1).toBe(1)\n${fence}\n`);
    const cache = path.join(path.dirname(file), '.runbook', 'cache');
    await assert.rejects(loadRunbook(file, cache), RunbookInputError);
    await assert.rejects(loadRunbook(file, cache), RunbookInputError);
    assert.deepEqual(await models(cache), []);
  });
});
