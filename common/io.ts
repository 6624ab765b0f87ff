/** Where a command writes, one line at a time; injected so tests read output without touching the process. */
export interface CommandIO {
  stdout(line: string): void;
  stderr(line: string): void;
}

export const processIO: CommandIO = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
};
