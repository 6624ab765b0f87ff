import { escapeRegExp } from '../../common/regexp.ts';

/**
 * Replaces every known secret value (and the encodings it commonly leaks in: base64, base64url, URL-encoding, hex)
 * with `[secret:NAME]`. Every path that leaves the process (events, journal, reports, error messages) goes through it.
 */
export class Redactor {
  readonly #patterns = new Map<string, string>();
  #regex: RegExp | undefined;

  add(name: string, value: string): void {
    // Very short values would redact ordinary words; secrets worth the name are longer.
    if (value.length < 4) return;
    const label = `[secret:${name}]`;
    const forms = new Set([
      value,
      value.trim(),
      Buffer.from(value).toString('base64'),
      Buffer.from(value).toString('base64').replace(/=+$/, ''),
      Buffer.from(value).toString('base64url'),
      encodeURIComponent(value),
      JSON.stringify(value).slice(1, -1),
      Buffer.from(value).toString('hex'),
    ]);
    for (const form of forms) if (form.length >= 4) this.#patterns.set(form, label);
    this.#regex = undefined;
  }

  get size(): number {
    return this.#patterns.size;
  }

  /** The longest forms match first, so a value is never half-replaced by a shorter encoding of itself. */
  redact(text: string): string {
    if (this.#patterns.size === 0 || text.length === 0) return text;
    this.#regex ??= new RegExp(
      [...this.#patterns.keys()]
        .sort((a, b) => b.length - a.length)
        .map(escapeRegExp)
        .join('|'),
      'g',
    );
    return text.replace(this.#regex, (match) => this.#patterns.get(match) ?? '[secret]');
  }

  /** Deep-redacts plain data (event payloads, state snapshots). */
  redactValue<T>(value: T): T {
    if (this.#patterns.size === 0) return value;
    return JSON.parse(this.redact(JSON.stringify(value) ?? 'null')) as T;
  }

  /** True when `text` holds any known secret form: the leak scans assert on this. */
  leaks(text: string): boolean {
    return this.redact(text) !== text;
  }
}
