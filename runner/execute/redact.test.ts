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
  it('redacts upper-case and mixed-case hex', () => {
    const redactor = new Redactor();
    redactor.add('GRAPH', canary);
    const hex = Buffer.from(canary).toString('hex');
    assert.equal(redactor.redact(`x ${hex.toUpperCase()} y`), 'x [secret:GRAPH] y');
    const mixed = [...hex].map((digit, i) => (i % 2 ? digit.toUpperCase() : digit)).join('');
    assert.equal(redactor.redact(`x ${mixed} y`), 'x [secret:GRAPH] y');
  });
  it('redacts base64 wrapped over lines, as `base64` and PEM print it', () => {
    const redactor = new Redactor();
    const long = `${canary}-${canary}-${canary}`;
    redactor.add('GRAPH', long);
    const base64 = Buffer.from(long).toString('base64');
    for (const width of [76, 64, 20]) {
      const lines = base64.match(new RegExp(`.{1,${width}}`, 'g'))!;
      assert.ok(lines.length > 1);
      assert.equal(redactor.redact(`begin\n${lines.join('\n')}\nend`), 'begin\n[secret:GRAPH]\nend');
      assert.equal(redactor.redact(`begin\r\n${lines.join('\r\n')}\r\nend`), 'begin\r\n[secret:GRAPH]\r\nend');
    }
    // The events' deep redaction sees the JSON-escaped line breaks.
    const wrappedValue = base64.match(/.{1,20}/g)!.join('\n');
    assert.deepEqual(redactor.redactValue({ out: `b64 ${wrappedValue}\n` }), { out: 'b64 [secret:GRAPH]\n' });
  });
  it('redacts the base64 of a value read with its trailing newline', () => {
    const redactor = new Redactor();
    redactor.add('GRAPH', `${canary}\n`);
    assert.equal(redactor.redact(`b64 ${Buffer.from(`${canary}\n`).toString('base64')}`), 'b64 [secret:GRAPH]');
  });
  it('keeps the whitespace around a secret read from a file (its trailing newline is not part of it)', () => {
    const redactor = new Redactor();
    redactor.add('GRAPH', `${canary}\n`);
    assert.equal(redactor.redact(`raw ${canary}\nb64 next\n`), 'raw [secret:GRAPH]\nb64 next\n');
    redactor.add('PADDED', '  \tpadded-secret-value \r\n');
    assert.equal(redactor.redact('[ padded-secret-value ]\n'), '[ [secret:PADDED] ]\n');
  });
  it('names the right secret when several are known', () => {
    const redactor = new Redactor();
    redactor.add('ONE', 'first-secret-value');
    redactor.add('TWO', 'second-secret-value');
    assert.equal(
      redactor.redact(`${Buffer.from('second-secret-value').toString('hex').toUpperCase()} first-secret-value`),
      '[secret:TWO] [secret:ONE]',
    );
  });
});

describe('a run that marks many large secrets', () => {
  it('still redacts every one of them (no combined pattern over the engine size limit)', () => {
    const redactor = new Redactor();
    const tokens = Array.from({ length: 200 }, (_, i) => `eyJ${Buffer.from(`token-${i}-`.repeat(120)).toString('base64url')}`);
    tokens.forEach((token, i) => redactor.add(`TOKEN_${i}`, token));
    const text = tokens.map((token) => `Authorization: Bearer ${token}`).join('\n');
    const redacted = redactor.redact(text);
    for (const token of tokens) assert.equal(redacted.includes(token), false);
    assert.match(redacted, /Bearer \[secret:TOKEN_199\]/);
  });
});
