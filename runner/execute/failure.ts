import { stripVTControlCharacters } from 'node:util';
import { diagnostic, type RunRule } from '../../common/diagnostics.ts';
import type { Block } from '../model.ts';
import type { RunMessage } from '../report/events.ts';
import type { Redactor } from './redact.ts';
import { locate, safely, thrownText, type SourceMapper } from './locate.ts';
import { zxCore } from './libraries.ts';

const { ProcessOutput } = zxCore;

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

/** A value as an assertion shows it: strings as they are, anything else as JSON where it can be. */
function shown(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? thrownText(value);
  } catch {
    return thrownText(value);
  }
}

/**
 * Turns whatever a block threw into a positioned, redacted message whose note holds the lines worth reading. `rule`
 * says what kind of failure it was when the caller knows (a timeout, an interrupt); otherwise a failed verify block is
 * `run-verify`, a failed command `run-command`, anything else thrown `run-error`.
 */
export function describeError(
  error: unknown,
  file: string,
  block: Block,
  redactor: Redactor,
  rule?: RunRule,
  commandStack = '',
  mapper?: SourceMapper,
): RunMessage {
  const place = locate(error, block, mapper, isProcessOutput(error) ? commandStack : '');
  const ruleId = rule ?? (block.role === 'verify' ? 'run-verify' : isProcessOutput(error) ? 'run-command' : 'run-error');
  const message = (reason: string, note: string[]) => diagnostic(redactor.redact(reason), { file, place, ruleId, note: note.join('\n') });
  if (isProcessOutput(error)) {
    const meaning = error.exitCode !== null ? exitMeaning(error.exitCode) : undefined;
    const status = error.exitCode !== null ? `exit code ${error.exitCode}${meaning ? ` (${meaning})` : ''}` : `signal ${error.signal}`;
    return message(`command failed with ${status}`, relevantLines(redactor.redact(stripVTControlCharacters(error.stderr))));
  }
  if (error instanceof Error) {
    const text = stripVTControlCharacters(safely(() => String(error.message ?? ''), ''));
    const name = safely(() => String(error.name), 'Error');
    const [first = name, ...rest] = text.split('\n');
    const note = rest.map((detail) => redactor.redact(detail.trimEnd())).filter((detail) => detail.trim() !== '').slice(0, MAX_DETAIL_LINES);
    const result = message(first.trim() || name, note);
    // An `expect` assertion knows what it got and what it wanted: the message carries both, as a lint finding does.
    const matcher = safely(() => (error as { matcherResult?: { actual?: unknown; expected?: unknown } }).matcherResult, undefined);
    if (matcher && 'actual' in matcher) result.actual = redactor.redact(shown(matcher.actual));
    if (matcher && 'expected' in matcher) result.expected = [redactor.redact(shown(matcher.expected))];
    return result;
  }
  return message(`block threw ${thrownText(error)}`, []);
}
