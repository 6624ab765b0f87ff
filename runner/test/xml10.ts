/** The XML 1.0 check the tests of XML reports share (not a test file itself; the CLI never imports it). */
import assert from 'node:assert/strict';
import { XMLValidator } from 'fast-xml-parser';

/** XML 1.0's Char production (section 2.2): the characters a document may hold, written out or as `&#...;`. */
const isXmlChar = (code: number) =>
  code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);

/**
 * Asserts that `xml` is a well-formed XML 1.0 document as a strict reader (expat, Java's SAX: what CI's JUnit readers
 * use) sees it. fast-xml-parser's validator checks the structure but lets a NUL or an ESC through, so the characters are
 * checked here, one by one, and so are the character references (`&#0;` is as forbidden as a NUL).
 */
export function assertXml10(xml: string): void {
  for (const char of xml) {
    const code = char.codePointAt(0)!;
    assert.ok(isXmlChar(code), `U+${code.toString(16).toUpperCase().padStart(4, '0')} is not an XML 1.0 character, at ${xml.indexOf(char)}: ${JSON.stringify(xml.slice(Math.max(0, xml.indexOf(char) - 40), xml.indexOf(char) + 10))}`);
  }
  for (const [reference, hex, decimal] of xml.matchAll(/&#(?:x([0-9a-fA-F]+)|([0-9]+));/g)) {
    assert.ok(isXmlChar(hex !== undefined ? parseInt(hex, 16) : Number(decimal)), `${reference} refers to a character XML 1.0 forbids`);
  }
  // `]]>` may end a CDATA section and nothing else; the validator lets it through in text.
  assert.doesNotMatch(xml.replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, ''), /\]\]>/);
  assert.equal(XMLValidator.validate(xml), true);
}
