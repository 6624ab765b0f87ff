import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { assertXml10 } from '../test/xml10.ts';
import { xmlAttribute, xmlText } from './xml.ts';

/** `value` written as an attribute and as text, read back by a parser: what a CI reader gets. */
function roundTrip(value: string): { attribute: string; text: string } {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<a v="${xmlAttribute(value)}">${xmlText(value)}</a>\n`;
  assertXml10(xml);
  const parsed = new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: false, htmlEntities: true }).parse(xml) as {
    a: { '@_v': string; '#text': string };
  };
  return { attribute: parsed.a['@_v'], text: parsed.a['#text'] };
}

describe('XML text and attribute values', () => {
  it('escapes & < > in text; " too, and tabs and line ends, in attributes; carriage returns in both', () => {
    // Each alone, and all together: a value with one of them, and only that one, is escaped all the same.
    const text: [string, string][] = [['&', '&amp;'], ['<', '&lt;'], ['>', '&gt;'], ['\r', '&#13;'], ['"', '"'], ["'", "'"], ['\t', '\t'], ['\n', '\n']];
    for (const [char, written] of text) assert.equal(xmlText(`a${char}b`), `a${written}b`, JSON.stringify(char));
    // fast-xml-parser does not normalise attribute values as XML 1.0 tells a reader to (tab, LF, CR to spaces), so a
    // round trip through it would not notice these references missing: they are checked as written.
    const attribute: [string, string][] = [['&', '&amp;'], ['<', '&lt;'], ['>', '&gt;'], ['"', '&quot;'], ["'", "'"], ['\t', '&#9;'], ['\n', '&#10;'], ['\r', '&#13;']];
    for (const [char, written] of attribute) assert.equal(xmlAttribute(`a${char}b`), `a${written}b`, JSON.stringify(char));
    assert.equal(xmlText(`a & b <c> "d" 'e' ]]>`), `a &amp; b &lt;c&gt; "d" 'e' ]]&gt;`);
    assert.equal(xmlAttribute(`a & b <c> "d" 'e'`), `a &amp; b &lt;c&gt; &quot;d&quot; 'e'`);
  });

  it('reads back exactly what was written, tabs, line ends and carriage returns included', () => {
    // A reader turns a written CR into LF, and a written tab or line end in an attribute into a space.
    const value = `a&b <c> "d" 'e' ]]> &amp; t\tn\nr\r\nx\ry`;
    assert.deepEqual(roundTrip(value), { attribute: value, text: value });
  });

  it('writes the characters XML 1.0 forbids as the escapes that name them, and keeps every other one', () => {
    const forbidden: [string, string][] = [
      ['\x00', '\\x00'],
      ['\x08', '\\x08'],
      ['\x0b', '\\x0b'],
      ['\x0c', '\\x0c'],
      ['\x0e', '\\x0e'],
      ['\x1b', '\\x1b'],
      ['\x1f', '\\x1f'],
      ['\ud800', '\\ud800'],
      ['\udfff', '\\udfff'],
      ['\ufffe', '\\ufffe'],
      ['\uffff', '\\uffff'],
    ];
    for (const [char, escape] of forbidden) {
      assert.equal(xmlText(`a${char}b`), `a${escape}b`, JSON.stringify(char));
      assert.equal(xmlAttribute(`a${char}b`), `a${escape}b`, JSON.stringify(char));
    }
    // Allowed, if some are discouraged (DEL, the C1 controls): a reader accepts them, so they stay as printed.
    const allowed = '\t\n \x7f\x85\xa0\ud7ff\ue000\ufffd😀\u{10ffff}';
    assert.equal(xmlText(allowed), allowed);
    assert.deepEqual(roundTrip(`a${allowed}b`), { attribute: `a${allowed}b`, text: `a${allowed}b` });
    // A colour code stays readable.
    assert.deepEqual(roundTrip('\x1b[31mred\x1b[0m'), { attribute: '\\x1b[31mred\\x1b[0m', text: '\\x1b[31mred\\x1b[0m' });
  });

  it('writes a document a strict reader accepts whatever the text: every UTF-16 code unit, and a pair', () => {
    let every = '';
    for (let code = 0; code <= 0xffff; code++) every += String.fromCharCode(code);
    // A surrogate pair is one character (allowed); each half alone is not.
    const value = `${every}\ud83d\ude00`;
    const { attribute, text } = roundTrip(value);
    assert.equal(text, attribute);
    assert.ok(text.endsWith('😀'));
    // Apart, in the run of code units, the halves of the pair are lone surrogates.
    assert.ok(text.includes('\\ud83d') && text.includes('\\ude00'));
  });
});
