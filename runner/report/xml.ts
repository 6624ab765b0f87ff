/**
 * Escaping for XML written as strings (as Node's own junit reporter writes its XML): any string becomes text or an
 * attribute value that a strict XML 1.0 reader reads back as it was, or as near as XML 1.0 allows. No library at run
 * time: the XML builder used before was a development dependency only, cost every run's end tens of milliseconds, and
 * let through the characters that make a file unreadable.
 */

/**
 * What XML 1.0 does not allow in a document at all (its Char production, section 2.2), not even as `&#...;`: the C0
 * controls but tab, newline and carriage return, lone surrogates, and U+FFFE/U+FFFF. A strict reader (libxml2,
 * expat, Java's SAX parsers: what CI servers read JUnit XML with) refuses the whole file for one of them, and a step
 * that prints colour codes prints ESC.
 */
const FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * A forbidden character is written as the escape that names it in JavaScript and in the shell's printf (`\x1b`,
 * `\ufffe`): a reader still sees what the step printed (`\x1b[31m` reads as a colour code), where U+FFFD or dropping it
 * would hide which character it was. A backslash already in the text stays as it is: the rare ambiguity costs less than
 * doubling every backslash of a Windows path.
 */
function visible(char: string): string {
  const code = char.codePointAt(0)!;
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

const TEXT_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  // Only `]]>` needs it; escaping every `>` keeps the rule one a reader can check at a glance.
  '>': '&gt;',
  // A reader turns a written CR (alone or before LF) into LF: a reference keeps it.
  '\r': '&#13;',
};

const ATTRIBUTE_ESCAPES: Record<string, string> = {
  ...TEXT_ESCAPES,
  '"': '&quot;',
  // A reader turns written tabs and line ends in an attribute into spaces: references keep them.
  '\t': '&#9;',
  '\n': '&#10;',
};

// Most values need none of the above: one test (surrogates, even paired, take the slow path) spares the replacing.
const TEXT_AT_ISSUE = /[&<>\r]|[^\t\n\u0020-\uD7FF\uE000-\uFFFD]/;
const ATTRIBUTE_AT_ISSUE = /[&<>"]|[^\u0020-\uD7FF\uE000-\uFFFD]/;

/** `text` as an element's content. */
export function xmlText(text: string): string {
  if (!TEXT_AT_ISSUE.test(text)) return text;
  return text.replace(FORBIDDEN, visible).replace(/[&<>\r]/g, (char) => TEXT_ESCAPES[char]!);
}

/** `value` as an attribute's value, to go between double quotes. */
export function xmlAttribute(value: string): string {
  if (!ATTRIBUTE_AT_ISSUE.test(value)) return value;
  return value.replace(FORBIDDEN, visible).replace(/[&<>"\t\n\r]/g, (char) => ATTRIBUTE_ESCAPES[char]!);
}
