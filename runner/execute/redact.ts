import { escapeRegExp } from '../../common/regexp.ts';

/**
 * A line break a tool inserts when it wraps encoded output (`base64` at 76 columns, PEM at 64, `-w N`), also as
 * JSON escapes it (`redactValue` works on JSON text).
 */
const WRAP = String.raw`(?:\r?\n|(?:\\r)?\\n)?`;

/** `text` as a pattern in which a line break may sit between any two characters. */
function wrapped(text: string): string {
  return [...text].map(escapeRegExp).join(WRAP);
}

/** Hex digits in either case: `xxd`, `od` and `hexdump` print lower case, `printf %X` and many APIs upper case. */
function anyCaseHex(hex: string): string {
  return [...hex].map((digit) => (/[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit)).join('');
}

interface Form {
  /** Pattern source without capturing groups. */
  source: string;
  /** Length of the plain form, so the longest forms are tried first. */
  length: number;
  label: string;
}

/**
 * Replaces every known secret value (and the encodings it commonly leaks in: base64 (also wrapped over lines),
 * base64url, URL-encoding, hex in either case, JSON escaping) with `[secret:NAME]`. Every path that leaves the
 * process (events, journal, reports, error messages) goes through it.
 */
export class Redactor {
  /** Keyed by pattern source: a value marked twice (or under two names) keeps its first label. */
  readonly #forms = new Map<string, Form>();
  #regex: RegExp | undefined;
  #labels: string[] = [];

  add(name: string, value: string): void {
    // The whitespace around a value read from a file (its trailing newline) is not part of the secret: marking it
    // would swallow the line break after the value in every output. Encodings of the whole value are kept too,
    // since `base64 < file` encodes the newline with it.
    const core = value.trim();
    // Very short values would redact ordinary words; secrets worth the name are longer.
    if (core.length < 4) return;
    const label = `[secret:${name}]`;
    const literal = (form: string) => ({ source: escapeRegExp(form), length: form.length });
    const forms = [
      literal(core),
      literal(encodeURIComponent(core)),
      literal(JSON.stringify(core).slice(1, -1)),
      { source: anyCaseHex(Buffer.from(core).toString('hex')), length: core.length * 2 },
    ];
    for (const whole of new Set([core, value])) {
      const base64 = Buffer.from(whole).toString('base64');
      for (const form of new Set([base64, base64.replace(/=+$/, ''), Buffer.from(whole).toString('base64url')])) {
        forms.push({ source: wrapped(form), length: form.length });
      }
    }
    for (const form of forms) {
      if (form.length >= 4 && !this.#forms.has(form.source)) this.#forms.set(form.source, { ...form, label });
    }
    this.#regex = undefined;
  }

  get size(): number {
    return this.#forms.size;
  }

  /** The longest forms match first, so a value is never half-replaced by a shorter encoding of itself. */
  redact(text: string): string {
    if (this.#forms.size === 0 || text.length === 0) return text;
    if (!this.#regex) {
      const ordered = [...this.#forms.values()].sort((a, b) => b.length - a.length);
      this.#labels = ordered.map((form) => form.label);
      this.#regex = new RegExp(ordered.map((form) => `(${form.source})`).join('|'), 'g');
    }
    const labels = this.#labels;
    return text.replace(this.#regex, (...args: unknown[]) => {
      // One group per form: the first one that took part names the secret.
      const groups = args.slice(1, 1 + labels.length);
      const index = groups.findIndex((group) => group !== undefined);
      return labels[index] ?? '[secret]';
    });
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
