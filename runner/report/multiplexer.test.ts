import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Reporter, RunEvent } from './events.ts';
import { Multiplexer } from './multiplexer.ts';

const notice = (message: string): RunEvent => ({ kind: 'notice', level: 'info', message });

describe('Multiplexer', () => {
  it('turns a crashing reporter into an error notice for the others and stops calling it', () => {
    const seen: RunEvent[] = [];
    let calls = 0;
    const broken: Reporter = {
      name: 'broken',
      'on:notice'() {
        calls += 1;
        throw new Error('disk full');
      },
    };
    const healthy: Reporter = { name: 'healthy', onEvent: (event) => seen.push(event) };
    const mux = new Multiplexer([broken, healthy]);
    mux.emit(notice('one'));
    mux.emit(notice('two'));
    assert.equal(calls, 1);
    assert.deepEqual(seen.map((event) => (event.kind === 'notice' ? `${event.level}: ${event.message}` : event.kind)), [
      'info: one',
      'error: reporter broken failed and was disabled: disk full',
      'info: two',
    ]);
  });

  it('routes each event to its kind hook and to the catch-all', () => {
    const hooks: string[] = [];
    const mux = new Multiplexer([
      { name: 'r', onEvent: (event) => hooks.push(`any:${event.kind}`), 'on:notice': (event) => hooks.push(`notice:${event.message}`) },
    ]);
    mux.emit(notice('x'));
    assert.deepEqual(hooks, ['any:notice', 'notice:x']);
  });

  it('reports a reporter whose close fails instead of throwing', async () => {
    const seen: string[] = [];
    const mux = new Multiplexer([
      { name: 'writer', close: () => Promise.reject(new Error('EACCES')) },
      { name: 'log', 'on:notice': (event) => seen.push(event.message) },
    ]);
    await mux.close();
    assert.deepEqual(seen, ['reporter writer failed and was disabled: EACCES']);
  });
});
