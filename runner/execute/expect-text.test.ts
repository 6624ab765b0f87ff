import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchExpected } from './expect-text.ts';

describe('matchExpected', () => {
  it('matches identical output, ignoring trailing whitespace and blank lines', () => {
    assert.equal(matchExpected('a\nb\n', 'a  \nb\n\n'), undefined);
  });
  it('lets [..] match any text within a line', () => {
    assert.equal(matchExpected('status [..] ok', 'status 200 ok'), undefined);
    assert.deepEqual(matchExpected('status [..] ok', 'status 401 fail'), { expectedIndex: 0, expected: 'status [..] ok', actual: 'status 401 fail' });
  });
  it('lets ... match any run of lines, including none', () => {
    assert.equal(matchExpected('start\n...\nend', 'start\nx\ny\nend'), undefined);
    assert.equal(matchExpected('start\n...\nend', 'start\nend'), undefined);
    assert.equal(matchExpected('...\nend', 'a\nb\nend'), undefined);
  });
  it('reports the first expected line that no output line matches', () => {
    assert.deepEqual(matchExpected('one\ntwo\nthree', 'one\ntwo\nfour'), { expectedIndex: 2, expected: 'three', actual: 'four' });
  });
  it('fails on output beyond the expected lines', () => {
    assert.deepEqual(matchExpected('one', 'one\nextra'), { expectedIndex: 1, expected: '(end of expected output)', actual: 'extra' });
  });
  it('treats regex characters literally', () => {
    assert.equal(matchExpected('a.b (c)', 'axb (c)')?.expectedIndex, 0);
  });
});
