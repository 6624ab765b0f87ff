import { diagnostic, type Diagnostic } from '../../common/diagnostics.ts';
import type { Block, Runbook, Step } from '../model.ts';

// `state.NAME` as a whole expression start (not `otherstate.NAME`), and what follows it.
const STATE_USE = /(?<![\w$.])state\.([A-Za-z_$][\w$]*)(\s*(?:\?\?=|\|\|=|&&=|[-+*/]?=(?!=)|\?\?|\?\.|\|\||&&|===?|!==?|\?))?/g;
const WRITE = /^\s*(?:\?\?=|\|\|=|&&=|[-+*/]?=)$/;
// A read after these is a test or a fallback, not a use: `!state.x`, `a === state.x`, `c ? state.x : d`, `if (state.x)`.
const GUARDED_BEFORE = /(?:!|===?|!==?|\?\?|\|\||&&|\?|\btypeof|\bif \()$/;

interface StateUse {
  name: string;
  write: boolean;
  /** Read in a way that expects it may be missing (`??`, `?.`, `!state.x`, a comparison). */
  guarded: boolean;
  line: number;
  column: number;
}

function uses(block: Block): StateUse[] {
  const found: StateUse[] = [];
  block.code.split('\n').forEach((text, index) => {
    // `if (state.x) use(state.x)`: once a line has tested a name, its later reads on that line are guarded too.
    const tested = new Set<string>();
    for (const match of text.matchAll(STATE_USE)) {
      const after = match[2] ?? '';
      const before = text.slice(0, match.index).trimEnd();
      const guarded = after.trim() !== '' || GUARDED_BEFORE.test(before) || tested.has(match[1]!);
      if (guarded) tested.add(match[1]!);
      found.push({
        name: match[1]!,
        write: WRITE.test(after),
        guarded,
        line: block.codeLine + index,
        column: match.index + 1,
      });
    }
  });
  return found;
}

const blocksOf = (step: Step): Block[] => [step.block, ...step.verifies, ...(step.rollback ? [step.rollback] : [])];

/**
 * A value one step puts in `state` is missing when that step does not run (`--from`, `--only`, `when=`): a block of a
 * step that does run and reads it unguarded would fail half-way with `Cannot read properties of undefined`. Found at
 * plan time, at the read, naming the step that writes it; a value derived in setup (or written by a running step) is
 * always there.
 */
export function stateLeftEmpty(runbook: Runbook, running: ReadonlySet<Step>): Diagnostic[] {
  const writers = new Map<string, Step[]>();
  const always = new Set<string>();
  for (const block of runbook.blocks.filter((candidate) => candidate.role === 'setup')) {
    for (const use of uses(block)) if (use.write) always.add(use.name);
  }
  for (const step of runbook.steps) {
    for (const use of blocksOf(step).flatMap(uses)) {
      if (use.write && !writers.get(use.name)?.includes(step)) writers.set(use.name, [...(writers.get(use.name) ?? []), step]);
    }
  }
  const found: Diagnostic[] = [];
  const reported = new Set<string>();
  for (const step of running) {
    for (const use of blocksOf(step).flatMap(uses)) {
      if (use.write || use.guarded || always.has(use.name)) continue;
      const from = writers.get(use.name) ?? [];
      if (from.length === 0 || from.some((writer) => running.has(writer))) continue;
      if (reported.has(`${step.id} ${use.name}`)) continue;
      reported.add(`${step.id} ${use.name}`);
      found.push(
        diagnostic(
          `Unexpected read of \`state.${use.name}\` in step \`${step.id}\`: only \`${from.map((writer) => writer.id).join('`, `')}\` write${from.length > 1 ? '' : 's'} it, and this run skips ${from.length > 1 ? 'them' : 'it'}; expected the value derived in a setup block, or a run that includes ${from.length > 1 ? 'one of them' : 'it'}`,
          { file: runbook.file, place: { start: { line: use.line, column: use.column }, end: { line: use.line, column: use.column + 6 + use.name.length } }, ruleId: 'state-left-empty' },
        ),
      );
    }
  }
  return found;
}
