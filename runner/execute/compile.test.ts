import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { globalsUsedBy } from './compile.ts';

describe('globalsUsedBy (a block receives only the globals it names)', () => {
  it('finds each name used as an identifier', () => {
    assert.deepEqual(globalsUsedBy('await $`echo hi`'), ['$']);
    assert.deepEqual(globalsUsedBy('$.verbose = true'), ['$']);
    assert.deepEqual(globalsUsedBy('expect(result.stdout).toBe(1)'), ['expect', 'result']);
    assert.deepEqual(globalsUsedBy('const copy = { ...state }'), ['state']);
    assert.deepEqual(globalsUsedBy('console.log(secrets.names())'), ['secrets', 'console']);
  });

  it('does not count a name inside a longer identifier, or template interpolation as `$`', () => {
    assert.deepEqual(globalsUsedBy('const statement = `${count}`; my$ = $x'), []);
    assert.deepEqual(globalsUsedBy('const pathname = 1'), []);
  });

  it('errs on the side of more: a name in a string or a comment still counts', () => {
    assert.deepEqual(globalsUsedBy("// reads state\nconst label = 'target'"), ['state', 'target']);
  });
});
