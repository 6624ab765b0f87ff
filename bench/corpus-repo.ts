/**
 * One corpus repository, measured in a process of its own (so its peak memory is its own): `runbook check` on its
 * docs at HEAD without bindings (findings, labelled precision, time), with the bindings and baseline that run writes
 * (findings), and after each planted drift (recall, with and without bindings). Prints one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fingerprint } from '../checks/drift/baseline.ts';
import type { Binding } from '../checks/drift/bindings.ts';
import { documentIgnored, findDocuments, type IgnoreEntry } from '../checks/drift/documents.ts';
import { checkDocument, indexRepo } from '../checks/drift/index.ts';
import { DOCS, type RepoIndex } from '../checks/drift/repo-index.ts';
import { wellKnownEnv } from '../checks/drift/well-known-env.ts';
import { formatDiagnostic, type Diagnostic } from '../common/diagnostics.ts';
import { parseRunbook } from '../runner/parse/index.ts';

export interface Label {
  document: string;
  rule: string;
  actual: string;
  verdict: 'real' | 'false-positive';
  why: string;
}

export interface RepoLabels {
  /** The document timed alone ("one document"). */
  primary: string;
  /** The repository's docs (globs), as `runbook check` would be given them. */
  documents: string[];
  /** The repository's own configuration: documents it would not check, with why (a changelog names the past). */
  ignore?: IgnoreEntry[];
  labels: Label[];
}

export interface Plant {
  kind: 'file' | 'env' | 'flag' | 'function' | 'compose' | 'make';
  claim: string;
  /** Caught by a check with the HEAD bindings (the gate's mode) / by context alone (a first run). */
  caught: boolean;
  caughtWithoutBindings: boolean;
}

export interface RepoFigures {
  name: string;
  documents: number;
  findings: string[];
  real: number;
  falsePositive: number;
  unlabelled: string[];
  withBindings: string[];
  plants: Plant[];
  /** Bound claims passed over for a plant, with why (`unplantable`). */
  unplanted: { kind: Plant['kind']; claim: string; why: string }[];
  oneDocumentMs: number;
  allDocumentsMs: number;
  peakRssMb: number;
}

type Findings = Map<string, Diagnostic[]>;

async function checkAll(root: string, documents: readonly string[], bindings?: Map<string, Binding[]>, index?: RepoIndex): Promise<{ findings: Findings; bindings: Map<string, Binding[]> }> {
  const repo = index ?? (await indexRepo(root));
  const findings: Findings = new Map();
  const bound = new Map<string, Binding[]>();
  for (const document of documents) {
    const parsed = parseRunbook(readFileSync(path.join(root, document), 'utf8'), document);
    const outcome = await checkDocument(parsed, { repo, documentPath: document, bindings: bindings?.get(document) });
    findings.set(document, outcome.diagnostics);
    bound.set(document, outcome.bindings);
  }
  return { findings, bindings: bound };
}

const keys = (findings: Findings) => [...findings].flatMap(([document, messages]) => messages.map((message) => fingerprint(document, message)));

/** Deterministic pick: a claim's place in a hash order, so the sample does not depend on the corpus's spelling. */
function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function replaceIn(file: string, pattern: RegExp, to: string): boolean {
  const before = readFileSync(file, 'utf8');
  const after = before.replace(pattern, to);
  if (after === before) return false;
  writeFileSync(file, after);
  return true;
}

/**
 * Why a bound claim makes no planted drift, though `plant` could apply one: the rename would not make the document
 * wrong, or it is not one the repository can make. Listed with the figures, never silently left out.
 * - an env var the code also reads through a prefix (zx reads every `ZX_` + option name, so renaming `ZX_VERBOSE` in
 *   a test leaves `ZX_VERBOSE=true zx x.mjs` working, and the checker accepts the name by its prefix);
 * - a variable of the OS or of a third-party tool (well-known-env.ts: `FORCE_COLOR` is chalk's, `COMPOSE_PROFILES`
 *   docker compose's): renaming it in the repo breaks the repo, not the document.
 */
function unplantable(kind: Plant['kind'], binding: Binding, index: RepoIndex): string | undefined {
  const name = binding.claim.slice(binding.claim.indexOf(':') + 1);
  if (kind !== 'env') return undefined;
  const prefix = [...index.envPrefixes.keys()].find((known) => name.startsWith(known) && name.length > known.length);
  if (prefix) return `the code also reads it through the prefix \`${prefix}\` (${index.envPrefixes.get(prefix)!.file})`;
  if (wellKnownEnv(name)) return 'a variable of the OS or of a third-party tool (well-known-env.ts), not one the repo can rename';
  return undefined;
}

/** Applies one planted drift of `kind` for a bound claim to the copy at `root`; returns the name a finding must carry. */
function plant(root: string, index: RepoIndex, kind: Plant['kind'], binding: Binding, documents: readonly string[]): string | undefined {
  const name = binding.claim.slice(binding.claim.indexOf(':') + 1);
  const file = path.join(root, binding.file);
  switch (kind) {
    case 'file': {
      // A document the run checks is not renamed under it; any other file is fair game.
      // A path the document writes out (not a bare name that any same-named file satisfies).
      if (!name.includes('/') || !index.files.has(binding.file) || documents.includes(binding.file)) return undefined;
      const parsed = path.posix.parse(binding.file);
      const renamed = path.posix.join(parsed.dir, `${parsed.name}-renamed${parsed.ext}`);
      execFileSync('git', ['mv', binding.file, renamed], { cwd: root });
      execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', 'commit', '-qm', 'rename'], { cwd: root });
      return path.posix.basename(name.replace(/\/$/, '')) || name;
    }
    case 'env': {
      // Only a name the code has itself (not one it builds from a prefix): renaming it is a real rename.
      if (binding.symbol !== name) return undefined;
      let changed = false;
      for (const relative of index.files) {
        // Every file the index reads as code (docs and `.env*` examples are not the contract).
        if (DOCS.test(relative) || path.posix.basename(relative).startsWith('.env') || relative.endsWith('.drift.json')) continue;
        try {
          changed = replaceIn(path.join(root, relative), new RegExp(`\\b${escape(name)}\\b`, 'g'), `${name}_V2`) || changed;
        } catch {
          // Unreadable or binary-emptied: nothing to rename there.
        }
      }
      return changed ? name : undefined;
    }
    case 'flag': {
      const flag = name.split(' ').pop()!;
      return replaceIn(file, new RegExp(`${escape(flag)}(?![\\w-])`, 'g'), `${flag}-renamed`) ? flag : undefined;
    }
    case 'function': {
      // The name defined (`cd`, `pipe` of `ProcessPromise.pipe`), renamed in every code file as a rename is: its
      // definition, its callers and a built copy (zx commits `build/` beside `src/`).
      const symbol = (binding.symbol ?? name.replace(/\(\)$/, '')).split('.').pop()!;
      let changed = false;
      for (const relative of index.files) {
        if (DOCS.test(relative) || relative.endsWith('.drift.json')) continue;
        try {
          changed = replaceIn(path.join(root, relative), new RegExp(`(?<![\\w$])${escape(symbol)}(?![\\w$])`, 'g'), `${symbol}Renamed`) || changed;
        } catch {
          // Unreadable or emptied.
        }
      }
      return changed ? symbol : undefined;
    }
    case 'compose': {
      // A service renamed in compose is renamed where the code refers to it too (other compose files, scripts).
      let changed = false;
      for (const relative of index.files) {
        if (DOCS.test(relative) || relative.endsWith('.drift.json')) continue;
        try {
          changed = replaceIn(path.join(root, relative), new RegExp(`(?<![\\w-])${escape(name)}(?![\\w-])`, 'g'), `${name}-renamed`) || changed;
        } catch {
          // Unreadable or emptied.
        }
      }
      return changed ? name : undefined;
    }
    case 'make':
      return replaceIn(file, new RegExp(`^${escape(name)}:`, 'm'), `${name}-renamed:`) ? name : undefined;
  }
}

const KIND_OF: Record<string, Plant['kind']> = { path: 'file', env: 'env', flag: 'flag', function: 'function', method: 'function', compose: 'compose', kebab: 'compose', make: 'make' };
const PER_KIND = 2;

export async function measureRepo(name: string, root: string, labels: RepoLabels): Promise<RepoFigures> {
  const config = { ignore: labels.ignore ?? [] };
  const { files: found } = await findDocuments(labels.documents, root);
  const documents = found.filter((document) => !documentIgnored(config, document));
  const started = performance.now();
  const index = await indexRepo(root);
  const primary = parseRunbook(readFileSync(path.join(root, labels.primary), 'utf8'), labels.primary);
  await checkDocument(primary, { repo: index, documentPath: labels.primary });
  const oneDocumentMs = performance.now() - started;

  const allStarted = performance.now();
  const head = await checkAll(root, documents);
  const allDocumentsMs = performance.now() - allStarted;

  const findings = [...head.findings].flatMap(([document, messages]) => messages.map((message) => ({ document, message })));
  let real = 0;
  let falsePositive = 0;
  const unlabelled: string[] = [];
  for (const { document, message } of findings) {
    const label = labels.labels.find((entry) => entry.document === document && entry.rule === message.ruleId && entry.actual === (message.actual ?? message.reason));
    if (label?.verdict === 'real') real++;
    else if (label?.verdict === 'false-positive') falsePositive++;
    else unlabelled.push(formatDiagnostic(message));
  }

  // Adopting the gate: the bindings `check --update` writes and the baseline of what HEAD reports.
  const baseline = new Set(keys(head.findings));
  const again = await checkAll(root, documents, head.bindings, index);
  const withBindings = [...again.findings].flatMap(([document, messages]) => messages.filter((message) => !baseline.has(fingerprint(document, message))).map(formatDiagnostic));

  // Planted drifts: up to PER_KIND bound claims of each kind, each in a fresh copy (a git repo, for rename hints).
  const candidates = new Map<Plant['kind'], Binding[]>();
  for (const binding of [...head.bindings.values()].flat()) {
    const kind = KIND_OF[binding.claim.slice(0, binding.claim.indexOf(':'))];
    if (!kind) continue;
    const list = candidates.get(kind) ?? [];
    if (!list.some((other) => other.claim === binding.claim)) list.push(binding);
    candidates.set(kind, list);
  }
  const plants: Plant[] = [];
  const unplanted: RepoFigures['unplanted'] = [];
  for (const [kind, list] of candidates) {
    let planted = 0;
    for (const binding of list.sort((a, b) => hash(a.claim) - hash(b.claim))) {
      if (planted >= PER_KIND) break;
      const why = unplantable(kind, binding, index);
      if (why) {
        unplanted.push({ kind, claim: binding.claim, why });
        continue;
      }
      const copy = mkdtempSync(path.join(tmpdir(), `plant-${name}-`));
      try {
        cpSync(root, copy, { recursive: true });
        if (kind === 'file') {
          execFileSync('git', ['init', '-q'], { cwd: copy });
          execFileSync('git', ['add', '-A'], { cwd: copy });
          execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', 'commit', '-qm', 'head'], { cwd: copy });
        }
        const marker = plant(copy, index, kind, binding, documents);
        if (!marker) continue;
        planted++;
        const mutatedIndex = await indexRepo(copy);
        const names = (result: Findings) =>
          [...result].some(([document, messages]) => messages.some((message) => !baseline.has(fingerprint(document, message)) && (message.actual?.includes(marker) || message.reason.includes(marker))));
        const bound = await checkAll(copy, documents, head.bindings, mutatedIndex);
        const unbound = await checkAll(copy, documents, undefined, mutatedIndex);
        plants.push({ kind, claim: binding.claim, caught: names(bound.findings), caughtWithoutBindings: names(unbound.findings) });
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    }
  }
  return {
    name,
    documents: documents.length,
    findings: findings.map(({ message }) => formatDiagnostic(message)),
    real,
    falsePositive,
    unlabelled,
    withBindings,
    plants,
    unplanted,
    oneDocumentMs: Math.round(oneDocumentMs),
    allDocumentsMs: Math.round(allDocumentsMs),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [name, root, labelsJson] = process.argv.slice(2) as [string, string, string];
  const figures = await measureRepo(name, root, JSON.parse(labelsJson) as RepoLabels);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}
