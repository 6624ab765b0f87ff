import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FaultSpec, Faults } from '../types.ts';
import { takeUnhealthy, wrapClipboard } from './faults.ts';

function faults(): Faults {
  let armed: FaultSpec[] = [];
  return {
    inject: (s) => { armed.push({ count: 1, ...s }); },
    take(kind) {
      const i = armed.findIndex((f) => f.kind === kind);
      if (i < 0) return undefined;
      const f = armed[i]!;
      f.count = (f.count ?? 1) - 1;
      if (f.count <= 0) armed.splice(i, 1);
      return f;
    },
    list: () => armed.map((f) => ({ ...f })),
    clear: () => { armed = []; },
  };
}

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
});
