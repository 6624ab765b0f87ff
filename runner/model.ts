/**
 * The plain data every phase passes along: parse produces a `Runbook`, plan selects `PlannedStep`s, execute turns them
 * into events, reporters and checks read them. Nothing here has behaviour; everything carries its position.
 */

import type { Span } from '../common/position.ts';

export type { Point, Span } from '../common/position.ts';

/** `setup`: code every block of the document shares (helpers, clients bound to the target); it runs on every run. */
export const ROLES = ['step', 'verify', 'expect', 'rollback', 'setup'] as const;
export type Role = (typeof ROLES)[number];

/** A value from the info string: `key=value` gives a string, a bare `key` gives true. */
export type AttributeValue = string | true;

/** One fenced block that has a role. Code blocks without a role are prose and never become a Block. */
export interface Block {
  /**
   * Names the block in events, journals and reports: its step's id for the step block, then
   * `STEP/verify-N`, `STEP/expect-N`, `STEP/rollback` (N counts from 1 in document order). A block with no step
   * (an orphan, refused by the parser) is `line-L/ROLE`.
   */
  id: string;
  /** The id of the step the block belongs to; undefined for an orphan. */
  stepId?: string;
  role: Role;
  lang: string;
  attributes: Record<string, AttributeValue>;
  /** Positions of each attribute inside the info string, for diagnostics that point at the word. */
  attributeSpans: Record<string, Span>;
  code: string;
  /** The whole fence, opening to closing line. */
  span: Span;
  /** Line of the first line of code (the line after the opening fence). */
  codeLine: number;
  /** Index of this block among the runnable blocks of the document (compile order). */
  index: number;
}

export interface Heading {
  text: string;
  depth: number;
  span: Span;
}

/** Attributes of a step after validation, with defaults applied. */
export interface StepOptions {
  timeoutMs: number;
  retries: number;
  retryDelayMs: number;
  /** Target names this step runs on; undefined = every target. */
  when?: string[];
  confirm: boolean;
  manual: boolean;
  /** Runs only when asked for by name (`--only ID`): diagnoses and repair procedures that are not part of the flow. */
  onDemand: boolean;
  /**
   * The point of no return: once this step took effect, no earlier step's rollback may run (they would undo what the
   * irreversible step relies on). A later failure ends the run for a forward fix instead.
   */
  irreversible: boolean;
  /** `rollback=none reason="..."`: the author says no rollback is possible. */
  rollbackNone?: string;
}

export interface Step {
  id: string;
  /** What people call the step: its section's heading, else its id. Every report uses this one. */
  title: string;
  /** The heading of the section the step lives in. */
  heading?: Heading;
  /** Markdown source of the prose between the previous block (or heading) and this step: the operator action. */
  intro: string;
  block: Block;
  options: StepOptions;
  verifies: Block[];
  expects: Block[];
  rollback?: Block;
}

/** A named profile of non-secret settings. `sandbox: true` asks the runner for the embedded sandbox tenant. */
export interface TargetProfile {
  name: string;
  sandbox: boolean;
  settings: Record<string, unknown>;
  span: Span;
}

export interface FrontMatter {
  /** Every key as written, unknown ones included (they are kept, never rejected). */
  data: Record<string, unknown>;
  /** Position of each top-level key, for diagnostics and for stamping `last-validated` in place. */
  keySpans: Record<string, Span>;
  /** The whole YAML block including its `---` fences; undefined when the document has none. */
  span?: Span;
  targets: Record<string, TargetProfile>;
  defaultTarget?: string;
  reviewEveryDays: number;
}

export interface Runbook {
  /** Path as given by the user: diagnostics print it unchanged. */
  file: string;
  /** The text with line endings normalised to `\n`: what every position and offset refers to. */
  source: string;
  /** sha256 (hex) of the document as read, before line endings are normalised: `sha256sum FILE` shows the same. */
  digest: string;
  frontMatter: FrontMatter;
  headings: Heading[];
  steps: Step[];
  /** All runnable blocks in document order (steps, verifies, expects, rollbacks). */
  blocks: Block[];
}
