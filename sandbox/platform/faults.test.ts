import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFaults as faults } from '../faults.ts';
import { sshDropPolicy, takeUnhealthy, wrapClipboard } from './faults.ts';

describe('platform faults', () => {
  it('truncates or newline-pads one clipboard read, then reads clean again', () => {
    let text = 'abcdefghijklmnop';
    const clipboard = { write: (v: string) => { text = v; }, read: () => text };
    const f = faults();
    const undo = wrapClipboard(clipboard, f);
    f.inject({ kind: 'clipboard-truncate', params: { length: 5 } });
    assert.equal(clipboard.read(), 'abcde');
    f.inject({ kind: 'clipboard-newline' });
    assert.equal(clipboard.read(), 'abcdefghijklmnop\n');
    assert.equal(clipboard.read(), 'abcdefghijklmnop');
    undo();
    f.inject({ kind: 'clipboard-truncate' });
    assert.equal(clipboard.read(), 'abcdefghijklmnop');
  });

  it('aims container-unhealthy at the named container only', () => {
    const f = faults();
    f.inject({ kind: 'container-unhealthy', params: { container: 'curateme-backend-gateway' } });
    assert.equal(takeUnhealthy(f, 'curateme-backend-b2b'), false);
    assert.equal(takeUnhealthy(f, 'curateme-backend-gateway'), true);
    assert.equal(takeUnhealthy(f, 'curateme-backend-gateway'), false);
  });

  it('lets params.skip events pass before an ssh-drop fires (aimed at the command after an upload)', () => {
    const f = faults();
    const policy = sshDropPolicy(f);
    f.inject({ kind: 'ssh-drop', params: { skip: 1, afterBytes: 40 } });
    assert.equal(policy(), undefined);
    assert.equal(policy(), 40);
    assert.equal(policy(), undefined);
  });
});
