/** Python-logging-shaped lines on stdout, which the container runtime timestamps for `docker logs --since`. */
export type Level = 'INFO' | 'WARNING' | 'ERROR';

export function log(level: Level, logger: string, message: string): void {
  process.stdout.write(`${level} ${logger}: ${message}\n`);
}
