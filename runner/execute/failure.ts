import { stripVTControlCharacters } from 'node:util';
import { ProcessOutput } from 'zx';
import type { Block } from '../model.ts';
import type { Failure } from '../report/events.ts';
import type { Redactor } from './redact.ts';
import { locate, type SourceMapper } from './locate.ts';

const ERRORISH = /error|fail|fatal|denied|refused|invalid|not found|no such|cannot|unable|timed out|AADSTS|exception/i;
const MAX_DETAIL_LINES = 20;

/** zx knows what most exit codes mean; the two a runbook meets often that zx does not name are added. */
const OWN_MEANINGS: Record<number, string> = { 1: 'general error', 255: 'ssh connection or remote command failed' };
function exitMeaning(code: number): string | undefined {
  return OWN_MEANINGS[code] ?? ProcessOutput.getExitCodeInfo(code)?.toLowerCase();
}

interface ProcessOutputLike {
  exitCode: number | null;
  signal: string | null;
  stderr: string;
  stdout: string;
}

function isProcessOutput(error: unknown): error is ProcessOutputLike & Error {
  return error instanceof ProcessOutput;
}

function relevantLines(text: string): string[] {
  const lines = text.split('\n').map((line) => line.trimEnd()).filter(Boolean);
  const errorish = lines.filter((line) => ERRORISH.test(line));
  return (errorish.length > 0 ? errorish : lines).slice(-MAX_DETAIL_LINES);
}

/** Turns whatever a block threw into a positioned, redacted failure whose details are the lines worth reading. */
export function describeError(
  error: unknown,
  file: string,
  block: Block,
  redactor: Redactor,
  kind = 'error',
  commandStack = '',
  mapper?: SourceMapper,
): Failure {
  const { line, column } = locate(error, block, mapper, isProcessOutput(error) ? commandStack : '');
  const location = { file, line, column };
  if (isProcessOutput(error)) {
    const meaning = error.exitCode !== null ? exitMeaning(error.exitCode) : undefined;
    const status = error.exitCode !== null ? `exit code ${error.exitCode}${meaning ? ` (${meaning})` : ''}` : `signal ${error.signal}`;
    return {
      kind,
      location,
      message: redactor.redact(`command failed with ${status}`),
      details: relevantLines(redactor.redact(stripVTControlCharacters(error.stderr))),
    };
  }
  if (error instanceof Error) {
    const text = stripVTControlCharacters(error.message);
    const [first = error.name, ...rest] = text.split('\n');
    return {
      kind,
      location,
      message: redactor.redact(first.trim() || error.name),
      details: rest.map((detail) => redactor.redact(detail.trimEnd())).filter((detail) => detail.trim() !== '').slice(0, MAX_DETAIL_LINES),
    };
  }
  return { kind, location, message: redactor.redact(`block threw ${String(error)}`), details: [] };
}
