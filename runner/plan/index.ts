import { diagnostic, RunbookInputError } from '../../common/diagnostics.ts';
import type { Runbook, Step } from '../model.ts';

export interface PlanOptions {
  target?: string;
  from?: string;
  only?: string;
}

export interface PlannedStep {
  step: Step;
  /** Why the step will not run; undefined when it runs. */
  skip?: string;
}

/** Selects what a run executes: `when=`, `--from` and `--only` decide, nothing runs here. */
export function planRun(runbook: Runbook, options: PlanOptions = {}): PlannedStep[] {
  for (const [flag, id] of [['--from', options.from], ['--only', options.only]] as const) {
    if (id !== undefined && !runbook.steps.some((step) => step.id === id)) {
      throw new RunbookInputError([
        diagnostic(`Unexpected ${flag} \`${id}\`, expected a step id: ${runbook.steps.map((step) => step.id).join(', ')}`, {
          file: runbook.file,
          ruleId: 'unknown-step',
        }),
      ]);
    }
  }
  let reached = options.from === undefined;
  return runbook.steps.map((step) => {
    if (step.id === options.from) reached = true;
    if (options.only !== undefined && step.id !== options.only) return { step, skip: `not --only ${options.only}` };
    if (!reached) return { step, skip: `before --from ${options.from}` };
    if (step.options.onDemand && options.only !== step.id) return { step, skip: 'on demand (run it with --only)' };
    const when = step.options.when;
    if (when && options.target !== undefined && !when.includes(options.target)) {
      return { step, skip: `when=${when.join(',')} (target ${options.target})` };
    }
    if (when && options.target === undefined) return { step, skip: `when=${when.join(',')} (no target)` };
    return { step };
  });
}

/** What a step touches, read off its code: the commands it runs and the hosts and files it names. */
export function touches(step: Step): string[] {
  const found = new Set<string>();
  const code = [step.block.code, step.rollback?.code ?? ''].join('\n');
  for (const match of code.matchAll(/\$(?:\([^)]*\))?`\s*([\w./-]+)/g)) found.add(`cmd:${match[1]}`);
  // Graph paths up to their first interpolation: `/applications/${id}/addPassword` touches `graph:/applications/…`.
  for (const match of code.matchAll(/\.api\(\s*(?:`([^`$]+)(\$\{)?|'([^']+)'|"([^"]+)")/g)) {
    found.add(`graph:${match[1] ?? match[3] ?? match[4]}${match[2] ? '…' : ''}`);
  }
  if (/\bssh\b/.test(code)) found.add('host:vps');
  if (/secrets\.(?:write|read)/.test(code)) found.add('secret-file');
  if (step.options.manual) found.add('operator');
  return [...found];
}
