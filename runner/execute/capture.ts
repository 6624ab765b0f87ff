import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

export type Stream = 'stdout' | 'stderr';

export interface OutputLine {
  stream: Stream;
  text: string;
}

/**
 * Everything one block printed (its console and the commands it ran), in order. Output is published a whole line at a
 * time so that redaction sees a secret split across chunks as one string before anything leaves the process.
 */
export class OutputCapture {
  readonly lines: OutputLine[] = [];
  readonly #partial: Record<Stream, string> = { stdout: '', stderr: '' };
  readonly #decoders: Record<Stream, StringDecoder> = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };

  constructor(private readonly onLine: (line: OutputLine) => void) {}

  write(stream: Stream, chunk: string | Buffer): void {
    const text = typeof chunk === 'string' ? chunk : this.#decoders[stream].write(chunk);
    const pieces = (this.#partial[stream] + text).split(/\r?\n/);
    this.#partial[stream] = pieces.pop() ?? '';
    for (const piece of pieces) this.#emit(stream, piece);
  }

  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.#partial[stream] + this.#decoders[stream].end();
      this.#partial[stream] = '';
      if (rest.length > 0) this.#emit(stream, rest);
    }
  }

  text(stream?: Stream): string {
    const lines = stream ? this.lines.filter((line) => line.stream === stream) : this.lines;
    return lines.map((line) => `${line.text}\n`).join('');
  }

  stream(stream: Stream): Writable {
    return new Writable({
      write: (chunk: Buffer | string, _encoding, callback) => {
        this.write(stream, chunk);
        callback();
      },
    });
  }

  #emit(stream: Stream, text: string): void {
    const line = { stream, text };
    this.lines.push(line);
    this.onLine(line);
  }
}
