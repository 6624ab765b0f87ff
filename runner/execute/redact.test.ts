import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutputCapture } from './capture.ts';
import { Redactor } from './redact.ts';

const canary = 'Zq8~canary.SECRET_value-1234';

describe('Redactor', () => {
  it('replaces the value and its common encodings with the secret name', () => {
    const redactor = new Redactor();
    redactor.add('GRAPH', canary);
    const forms = [canary, Buffer.from(canary).toString('base64'), encodeURIComponent(canary), Buffer.from(canary).toString('hex')];
    for (const form of forms) assert.equal(redactor.redact(`x ${form} y`), 'x [secret:GRAPH] y');
  });
  it('redacts inside structured data', () => {
    const redactor = new Redactor();
    redactor.add('GRAPH', canary);
    assert.deepEqual(redactor.redactValue({ a: [`k=${canary}`] }), { a: ['k=[secret:GRAPH]'] });
  });
  it('sees a secret split across output chunks because lines are published whole', () => {
    const redactor = new Redactor();
    redactor.add('GRAPH', canary);
    const published: string[] = [];
    const capture = new OutputCapture((line) => published.push(redactor.redact(line.text)));
    capture.write('stdout', `value=${canary.slice(0, 7)}`);
    capture.write('stdout', Buffer.from(`${canary.slice(7)} done\n`));
    capture.flush();
    assert.deepEqual(published, ['value=[secret:GRAPH] done']);
  });
});
