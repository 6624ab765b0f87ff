import { readFile, rename, writeFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { diagnostic, RunbookInputError } from '../common/diagnostics.ts';
import type { Runbook } from './model.ts';
import { runFile, type RunRequest, type RunResult } from './run.ts';

/**
 * The full document on its sandbox target, unattended: every confirmation answered yes, every manual step done by its
 * automation. What `runbook validate` stamps on and what `runbook check --replay` reports from.
 */
export function sandboxRun(request: Omit<RunRequest, 'yes' | 'automate'> & { target: (runbook: Runbook) => string }): Promise<RunResult> {
  return runFile({ ...request, yes: true, automate: true });
}

/** The sandbox profile a validation uses: the one asked for, else `sandbox`, else the first that asks for one. */
export function validationTarget(runbook: Runbook, requested?: string): string {
  const targets = runbook.frontMatter.targets;
  const name = requested ?? ('sandbox' in targets ? 'sandbox' : Object.values(targets).find((target) => target.sandbox)?.name);
  if (!name || !targets[name]?.sandbox) {
    throw new RunbookInputError([
      diagnostic(`Unexpected validation target \`${name ?? '(none)'}\`, expected a target with \`sandbox: true\``, {
        file: runbook.file,
        place: runbook.frontMatter.keySpans['targets'],
        ruleId: 'validate-target',
      }),
    ]);
  }
  return name;
}

/**
 * Rewrites only the two keys in the front matter, keeping every other byte of the document as it was (yaml's
 * Document API keeps comments and scalar styles; line folding is off so no other line moves). Atomic: temp + rename.
 */
export async function stampValidation(file: string, date: string, method: string): Promise<void> {
  const source = await readFile(file, 'utf8');
  const newline = source.includes('\r\n') ? '\r\n' : '\n';
  const text = source.replace(/\r\n/g, '\n');
  const match = /^---\n([\s\S]*?)\n---(\n|$)/.exec(text);
  const document = parseDocument(match ? match[1]! : '');
  document.set('last-validated', date);
  document.set('validation-method', method);
  const yaml = document.toString({ lineWidth: 0 }).replace(/\n$/, '');
  const stamped = match ? `---\n${yaml}\n---${match[2]}${text.slice(match[0].length)}` : `---\n${yaml}\n---\n\n${text}`;
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, stamped.replace(/\n/g, newline));
  await rename(temp, file);
}

/**
 * What the stamp says was validated, exactly: which steps ran (and passed, with their verify and expect blocks) and
 * which did not run at all (on-demand diagnoses, `when=` another target), so no one reads "every block passed" into it.
 */
export function validationMethod(run: Pick<RunResult, 'runId' | 'target' | 'steps'>): string {
  const ran = [...run.steps].filter(([, status]) => status === 'passed').map(([id]) => id);
  const skipped = [...run.steps].filter(([, status]) => status !== 'passed').map(([id]) => id);
  const head = `runbook validate on the ${run.target.name} target (run ${run.runId})`;
  // No ": " in it, so YAML keeps the stamp a plain scalar.
  if (skipped.length === 0) return `${head}, all ${ran.length} steps ran and passed with their verify and expect blocks`;
  return `${head}, ${ran.length} of ${run.steps.size} steps ran and passed with their verify and expect blocks; did not run ${skipped.join(', ')}`;
}

export interface ValidateResult {
  run: RunResult;
  stamped?: { date: string; method: string };
}

/** Quarterly validation: the full rotation on the sandbox; only a passing run stamps the document. */
export async function validateRunbook(request: Omit<RunRequest, 'target' | 'yes' | 'automate' | 'from' | 'only'> & { target?: string }, now = new Date()): Promise<ValidateResult> {
  const run = await sandboxRun({ ...request, target: (runbook) => validationTarget(runbook, request.target) });
  if (run.exitCode !== 0) return { run };
  const date = now.toISOString().slice(0, 10);
  const method = validationMethod(run);
  await stampValidation(request.file, date, method);
  return { run, stamped: { date, method } };
}
