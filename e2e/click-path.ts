import type { Locator, Page } from '@playwright/test';
import type { Step } from '../runner/model.ts';
import { escapeRegExp as escape } from '../common/regexp.ts';

/**
 * A portal click path as the runbook's prose writes it: every **bold** label of a manual step's intro, in order, with
 * the runbook line it sits on. The e2e suite follows it in the browser, so prose that names something the portal does
 * not have fails there, at that line.
 */
export interface ClickAction {
  label: string;
  file: string;
  line: number;
  /** `**X**: value` fills or selects the field X; `the **X** tab`; `the **X** column` is looked at; anything else is clicked. */
  kind: 'field' | 'tab' | 'column' | 'control';
  /** For fields: the inline code or the words after the colon (`graph-secret-<YYYY-MM>`, `180 days`). */
  value?: string;
}

export class ClickPathError extends Error {
  override name = 'ClickPathError';
}

const fail = (action: Pick<ClickAction, 'file' | 'line'>, message: string): never => {
  throw new ClickPathError(`${action.file}:${action.line}: ${message}`);
};

/** Line of the first line of `step.intro` in `source` (the intro is the trimmed prose just above the step's fence). */
export function introLine(source: string, step: Pick<Step, 'intro' | 'block'>): number {
  const lines = source.split(/\r?\n/);
  const introLines = step.intro.split('\n');
  let last = step.block.span.start.line - 1;
  while (last > 0 && (lines[last - 1] ?? '').trim() === '') last -= 1;
  const first = last - introLines.length + 1;
  if (first < 1 || lines.slice(first - 1, last).join('\n').trim() !== step.intro) {
    throw new Error(`the intro of step ${step.block.span.start.line} is not the prose just above its fence`);
  }
  return first;
}

/** The bold labels of `prose` (which starts on `origin.line` of `origin.file`), in reading order. */
export function parseClickPath(prose: string, origin: { file: string; line: number }): ClickAction[] {
  const actions: ClickAction[] = [];
  for (const match of prose.matchAll(/\*\*(.+?)\*\*/g)) {
    const label = match[1]!.trim();
    const at = match.index;
    const line = origin.line + (prose.slice(0, at).match(/\n/g)?.length ?? 0);
    const before = prose.slice(Math.max(0, at - 5), at);
    const after = prose.slice(at + match[0].length);
    const base = { label, file: origin.file, line };
    if (after.startsWith(':')) {
      const rest = after.slice(1);
      const value = /^\s*`([^`]+)`/.exec(rest)?.[1] ?? /^\s*([^,.;(\n]+)/.exec(rest)?.[1]?.trim();
      if (!value) fail(base, `"**${label}**:" names no value to enter`);
      actions.push({ ...base, kind: 'field', value });
    } else if (/^\s+tab\b/.test(after) && /\bthe\s+$/i.test(before)) {
      actions.push({ ...base, kind: 'tab' });
    } else if (/^\s+column\b/.test(after)) {
      actions.push({ ...base, kind: 'column' });
    } else {
      actions.push({ ...base, kind: 'control' });
    }
  }
  return actions;
}

export interface FollowOptions {
  /** The row the prose means by "its" (e.g. "the previous secret"): used when a label matches in several rows. */
  within?: Locator;
  /** Values for `<PLACEHOLDER>`s in field values; `<YYYY-MM>` and `<YYYY-MM-DD>` default to today (UTC). */
  placeholders?: Record<string, string>;
  /** How long to wait for a label to appear after the previous action (default 5 s). */
  timeoutMs?: number;
  /**
   * Actions from the label `from` through the label `through` run inside `run`: the portal shows a secret value in
   * between (e.g. from **Add** to **Copy to clipboard**), so the caller can pause recording and clear the page after.
   */
  shownOnce?: { from: string; through: string; run: (body: () => Promise<void>) => Promise<void> };
}


/** Accessible names as the portal writes them, allowing a trailing count: "Client secrets" matches "Client secrets (2)". */
const nameOf = (label: string) => new RegExp(`^\\s*${escape(label)}(\\s*\\(\\d+\\))?\\s*$`);

interface Found {
  locator: Locator;
  role: string;
}

function candidates(scope: Page | Locator, action: ClickAction): Found[] {
  const name = nameOf(action.label);
  const byRole = (role: 'button' | 'link' | 'tab' | 'columnheader') => ({ locator: scope.getByRole(role, { name }), role });
  switch (action.kind) {
    case 'field':
      return [{ locator: scope.getByLabel(action.label, { exact: true }), role: 'field' }];
    case 'tab':
      return [byRole('tab')];
    case 'column':
      return [byRole('columnheader')];
    case 'control':
      return [byRole('button'), byRole('link'), byRole('tab'), byRole('columnheader')];
  }
}

async function locate(page: Page, action: ClickAction, options: FollowOptions): Promise<Found> {
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  for (;;) {
    // An open dialog is where the operator's eyes are (Add, Delete to confirm); the page behind it comes second.
    const dialog = page.getByRole('dialog').filter({ visible: true });
    const scopes: Array<Page | Locator> = (await dialog.count()) > 0 ? [dialog.first(), page] : [page];
    for (const scope of scopes) {
      for (const found of candidates(scope, action)) {
        const visible = found.locator.filter({ visible: true });
        const count = await visible.count();
        if (count === 1) return { ...found, locator: visible };
        if (count > 1) {
          if (options.within) {
            const narrowed = options.within.locator(visible);
            if ((await narrowed.count()) === 1) return { ...found, locator: narrowed };
          }
          fail(action, `"${action.label}" matches ${count} ${found.role}s in the portal; the prose does not say which one`);
        }
      }
    }
    if (Date.now() > deadline) {
      const kinds = { field: 'field', tab: 'tab', column: 'column', control: 'button, link, tab or column' }[action.kind];
      fail(action, `portal has no "${action.label}" (no ${kinds} of that name on "${await page.title()}")`);
    }
    await page.waitForTimeout(100);
  }
}

function fillPlaceholders(action: ClickAction, value: string, placeholders: Record<string, string>): string {
  const today = new Date().toISOString();
  const known: Record<string, string> = { 'YYYY-MM': today.slice(0, 7), 'YYYY-MM-DD': today.slice(0, 10), ...placeholders };
  return value.replace(/<([^>]+)>/g, (_, name: string) => known[name] ?? fail(action, `no value for <${name}> in "**${action.label}**"`));
}

async function perform(page: Page, action: ClickAction, options: FollowOptions): Promise<void> {
  const { locator, role } = await locate(page, action, options);
  if (role === 'columnheader') return; // Named so the operator finds a value there; nothing to click.
  if (role === 'field') {
    const value = fillPlaceholders(action, action.value ?? '', options.placeholders ?? {});
    if ((await locator.evaluate((element) => element.tagName)) === 'SELECT') {
      const choices = (await locator.locator('option').allTextContents()).map((text) => text.trim());
      const choice = choices.find((text) => text.toLowerCase().startsWith(value.toLowerCase()));
      if (!choice) fail(action, `"${action.label}" has no choice "${value}" (it offers ${choices.map((c) => `"${c}"`).join(', ')})`);
      await locator.selectOption({ label: choice! });
    } else {
      await locator.fill(value);
    }
    return;
  }
  // A link or a form's submit button loads the next page: wait for it, so the next label is looked up there.
  const navigates = await locator.evaluate(
    (element) => (element instanceof HTMLAnchorElement && element.href !== '') || (element instanceof HTMLButtonElement && element.type === 'submit' && element.form !== null),
  );
  if (navigates) {
    const loaded = page.waitForEvent('load');
    await locator.click();
    await loaded;
  } else {
    await locator.click();
    await page.waitForLoadState('networkidle');
  }
}

/** Acts on each label of the click path in order; throws a ClickPathError naming the runbook line of a missing label. */
export async function followClickPath(page: Page, actions: ClickAction[], options: FollowOptions = {}): Promise<void> {
  for (let index = 0; index < actions.length; index += 1) {
    const action = actions[index]!;
    const window = options.shownOnce;
    if (window && action.label === window.from) {
      const end = actions.findIndex((candidate, at) => at >= index && candidate.label === window.through);
      const inside = actions.slice(index, end < 0 ? actions.length : end + 1);
      await window.run(async () => {
        for (const shown of inside) await perform(page, shown, options);
      });
      index += inside.length - 1;
      continue;
    }
    await perform(page, action, options);
  }
}
