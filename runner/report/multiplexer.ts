import type { Reporter, RunEvent } from './events.ts';

/**
 * Fans every event out to each reporter. A reporter that throws is reported to the others as a notice and dropped
 * for the rest of the run: a broken report must never break (or roll back) a rotation.
 */
export class Multiplexer {
  readonly #reporters: Reporter[];
  readonly #broken = new Set<Reporter>();

  constructor(reporters: Reporter[]) {
    this.#reporters = reporters;
  }

  emit(event: RunEvent): void {
    const failed: Array<[Reporter, unknown]> = [];
    for (const reporter of this.#reporters) {
      if (this.#broken.has(reporter)) continue;
      try {
        reporter.onEvent?.(event);
        const hook = reporter[`on:${event.kind}`] as ((event: RunEvent) => void) | undefined;
        hook?.call(reporter, event);
      } catch (error) {
        failed.push([reporter, error]);
      }
    }
    // Reported after the event reached everyone, so the others see cause before consequence.
    for (const [reporter, error] of failed) this.#fail(reporter, error);
  }

  async close(): Promise<void> {
    for (const reporter of this.#reporters) {
      if (this.#broken.has(reporter)) continue;
      try {
        await reporter.close?.();
      } catch (error) {
        this.#fail(reporter, error);
      }
    }
  }

  #fail(reporter: Reporter, error: unknown): void {
    this.#broken.add(reporter);
    const message = `reporter ${reporter.name} failed and was disabled: ${error instanceof Error ? error.message : String(error)}`;
    this.emit({ kind: 'notice', level: 'error', message });
  }
}
