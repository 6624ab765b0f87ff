/**
 * A line break a tool inserts when it wraps encoded output (`base64` at 76 columns, PEM at 64, `-w N`), also as
 * JSON escapes it (`redactValue` works on JSON text).
 */
const LINE_BREAK = /\r?\n|(?:\\r)?\\n/g;

/** ASCII-only lower case keeps every offset where it was (`toLowerCase` may not, e.g. for `İ`). */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (run) => run.toLowerCase());
}

interface Form {
  /** The text searched for. */
  text: string;
  /** Where it is searched: as written, in an ASCII-lower-cased copy (hex), or with line breaks taken out (base64). */
  in: 'exact' | 'lower' | 'unwrapped';
  label: string;
}

interface Hit {
  start: number;
  end: number;
  label: string;
}

/** `text` without line breaks, and for each of its offsets the offset in `text` it came from. */
function unwrap(text: string): { text: string; origin: number[] } {
  const origin: number[] = [];
  let out = '';
  let last = 0;
  const keep = (from: number, to: number) => {
    for (let i = from; i < to; i += 1) origin.push(i);
    out += text.slice(from, to);
  };
  for (const match of text.matchAll(LINE_BREAK)) {
    keep(last, match.index);
    last = match.index + match[0].length;
  }
  keep(last, text.length);
  origin.push(text.length);
  return { text: out, origin };
}

function find(haystack: string, needle: string, found: (start: number, end: number) => void): void {
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) {
    found(at, at + needle.length);
  }
}

/**
 * Replaces every known secret value (and the encodings it commonly leaks in: base64 (also wrapped over lines),
 * base64url, URL-encoding, hex in either case, JSON escaping) with `[secret:NAME]`. Every path that leaves the
 * process (events, journal, reports, error messages) goes through it. Plain substring search, no regular
 * expression per secret: a run marks many kilobyte-long tokens, and patterns of that size exhaust the engine.
 */
export class Redactor {
  /** Keyed by where and what is searched: a value marked twice (or under two names) keeps its first label. */
  readonly #forms = new Map<string, Form>();

  add(name: string, value: string): void {
    // The whitespace around a value read from a file (its trailing newline) is not part of the secret: marking it
    // would swallow the line break after the value in every output. Encodings of the whole value are kept too,
    // since `base64 < file` encodes the newline with it.
    const core = value.trim();
    // Very short values would redact ordinary words; secrets worth the name are longer.
    if (core.length < 4) return;
    const label = `[secret:${name}]`;
    const forms: Form[] = [
      { text: core, in: 'exact', label },
      { text: encodeURIComponent(core), in: 'exact', label },
      { text: JSON.stringify(core).slice(1, -1), in: 'exact', label },
      // `xxd`, `od` and `hexdump` print lower case, `printf %X` and many APIs upper case.
      { text: Buffer.from(core).toString('hex'), in: 'lower', label },
    ];
    for (const whole of new Set([core, value])) {
      const base64 = Buffer.from(whole).toString('base64');
      for (const text of new Set([base64, base64.replace(/=+$/, ''), Buffer.from(whole).toString('base64url')])) {
        forms.push({ text, in: 'unwrapped', label });
      }
    }
    for (const form of forms) {
      const key = `${form.in}:${form.text}`;
      if (form.text.length >= 4 && !this.#forms.has(key)) this.#forms.set(key, form);
    }
  }

  get size(): number {
    return this.#forms.size;
  }

  /** Where hits overlap, the longest wins, so a value is never half-replaced by a shorter encoding of itself. */
  redact(text: string): string {
    if (this.#forms.size === 0 || text.length === 0) return text;
    let lower: string | undefined;
    let unwrapped: { text: string; origin: number[] } | undefined;
    const hits: Hit[] = [];
    for (const form of this.#forms.values()) {
      if (form.in === 'exact') find(text, form.text, (start, end) => hits.push({ start, end, label: form.label }));
      else if (form.in === 'lower') {
        lower ??= asciiLower(text);
        find(lower, form.text, (start, end) => hits.push({ start, end, label: form.label }));
      } else {
        unwrapped ??= unwrap(text);
        const { origin } = unwrapped;
        find(unwrapped.text, form.text, (start, end) => hits.push({ start: origin[start]!, end: origin[end - 1]! + 1, label: form.label }));
      }
    }
    if (hits.length === 0) return text;
    hits.sort((a, b) => b.end - b.start - (a.end - a.start) || a.start - b.start);
    const chosen: Hit[] = [];
    for (const hit of hits) {
      if (chosen.every((other) => hit.end <= other.start || hit.start >= other.end)) chosen.push(hit);
    }
    chosen.sort((a, b) => a.start - b.start);
    let out = '';
    let last = 0;
    for (const hit of chosen) {
      out += text.slice(last, hit.start) + hit.label;
      last = hit.end;
    }
    return out + text.slice(last);
  }

  /** Deep-redacts plain data (event payloads, state snapshots). */
  redactValue<T>(value: T): T {
    if (this.#forms.size === 0) return value;
    return JSON.parse(this.redact(JSON.stringify(value) ?? 'null')) as T;
  }

  /** True when `text` holds any known secret form: the leak scans assert on this. */
  leaks(text: string): boolean {
    return this.redact(text) !== text;
  }
}
