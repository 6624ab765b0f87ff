import spinners from 'cli-spinners';
import { createLogUpdate } from 'log-update';
import pc from 'picocolors';
import { formatDuration } from '../../common/duration.ts';
import { describeAnswerer, type Reporter, type RunEvent } from './events.ts';
import { formatCounts, messageLines } from './format.ts';

interface Row {
  id: string;
  title: string;
  state: 'pending' | 'running' | 'passed' | 'failed' | 'skipped' | 'interrupted';
  started?: number;
  durationMs?: number;
  note?: string;
  tail: string[];
}

const TAIL_LINES = 4;

/**
 * The TTY reporter: a live list of every step with a spinner on the running one, its last output lines beneath it,
 * and durations; finished failures are printed in full above the live area so they stay in the scrollback.
 */
export function prettyReporter(stream: NodeJS.WriteStream = process.stdout): Reporter {
  const live = createLogUpdate(stream, { showCursor: true });
  const spinner = spinners.dots;
  const rows = new Map<string, Row>();
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  let paused = false;

  const render = () => {
    if (paused) return;
    const lines: string[] = [];
    for (const row of rows.values()) {
      const elapsed = row.durationMs ?? (row.started ? performance.now() - row.started : undefined);
      const time = elapsed !== undefined ? pc.dim(` ${formatDuration(elapsed)}`) : '';
      const icon = {
        pending: pc.dim('○'),
        running: pc.cyan(spinner.frames[frame % spinner.frames.length]!),
        passed: pc.green('✔'),
        failed: pc.red('✖'),
        skipped: pc.dim('↷'),
        interrupted: pc.yellow('■'),
      }[row.state];
      const title = row.state === 'pending' || row.state === 'skipped' ? pc.dim(row.title) : row.title;
      lines.push(`${icon} ${title}${time}${row.note ? pc.dim(`  ${row.note}`) : ''}`);
      if (row.state === 'running') for (const tail of row.tail) lines.push(pc.dim(`    │ ${tail}`));
    }
    live(lines.join('\n'));
  };
  const above = (text: string) => {
    live.clear();
    stream.write(`${text}\n`);
    render();
  };
  const row = (event: { stepId: string }) => rows.get(event.stepId);

  return {
    name: 'pretty',
    onEvent(event: RunEvent) {
      if (event.kind !== 'output') render();
    },
    'on:run-begin'(event) {
      // Printed once above the live area, so operator prompts (which pause it) never push it out of place.
      above(`${pc.bold(`${event.resumed ? 'Resuming' : 'Running'} ${event.file}`)}${pc.dim(` on ${event.target}${event.sandbox ? ' (sandbox)' : ''} · run ${event.runId}`)}`);
      for (const step of event.steps) rows.set(step.id, { id: step.id, title: step.title, state: step.skip ? 'skipped' : 'pending', note: step.skip, tail: [] });
      timer = setInterval(() => {
        frame += 1;
        render();
      }, spinner.interval);
      timer.unref();
    },
    'on:step-begin'(event) {
      const current = row(event);
      if (current) Object.assign(current, { state: 'running', started: performance.now(), tail: [], note: undefined });
    },
    'on:step-skip'(event) {
      const current = row(event);
      if (current) Object.assign(current, { state: 'skipped', note: event.reason });
    },
    'on:output'(event) {
      const current = row(event);
      if (!current) return;
      current.tail.push(event.text);
      if (current.tail.length > TAIL_LINES) current.tail.shift();
    },
    'on:step-retry'(event) {
      const current = row(event);
      if (current) current.note = `retry ${event.attempt}: ${event.failure.reason}`;
    },
    'on:operator'(event) {
      const what = event.action === 'manual' ? 'action' : 'confirmation';
      if (event.answer === '') {
        paused = true;
        live.clear();
        stream.write(`${pc.bold(pc.yellow(`Operator ${what}: ${event.stepId}`))}\n${event.prose}\n`);
      } else {
        paused = false;
        // Said above the live area, so the scrollback keeps who approved what (a sandbox answers for itself, aloud).
        above(pc.dim(`? ${event.stepId}: ${what} ${event.answer}, answered by ${describeAnswerer(event.by)}`));
      }
    },
    'on:step-end'(event) {
      const current = row(event);
      if (current) Object.assign(current, { state: event.status, durationMs: event.durationMs, note: undefined });
      if (event.failure) above(messageLines(event.failure).map((line, index) => (index === 0 ? pc.red(line) : line)).join('\n'));
    },
    'on:rollback-begin'(event) {
      const current = row(event);
      if (current) current.note = 'rolling back…';
    },
    'on:rollback-end'(event) {
      const current = row(event);
      if (current) current.note = `rollback ${event.status}`;
      if (event.failure) above(messageLines(event.failure).join('\n'));
    },
    'on:notice'(event) {
      above(event.level === 'error' ? pc.red(event.message) : event.level === 'warning' ? pc.yellow(event.message) : pc.dim(event.message));
    },
    'on:run-end'(event) {
      if (timer) clearInterval(timer);
      render();
      live.done();
      const summary = `${formatCounts(event.counts, event.rollbacks)} in ${formatDuration(event.durationMs)}`;
      stream.write(`${event.status === 'passed' ? pc.green(pc.bold('✔ passed')) : pc.red(pc.bold(`✖ ${event.status}`))} ${summary}\n`);
    },
    close() {
      if (timer) clearInterval(timer);
    },
  };
}
