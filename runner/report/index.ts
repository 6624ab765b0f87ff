import type { Reporter } from './events.ts';

export interface ReporterOptions {
  /** Folder for file reports; undefined when `--out` was not given (the CLI refuses file reporters then). */
  outDir: string | undefined;
}

export interface ReporterEntry {
  /**
   * `stdout`: the live view, at most one per run (two would interleave). `file`: writes under `--out` only.
   * `github` is a stdout reporter (annotations are workflow commands on stdout); its summary goes to Actions' file.
   */
  writes: 'stdout' | 'file';
  create(options: ReporterOptions): Reporter | Promise<Reporter>;
}

const folder = (options: ReporterOptions): string => {
  if (!options.outDir) throw new Error('a file reporter needs --out');
  return options.outDir;
};

/**
 * Every reporter by name; adding one is adding a line here, the engine never changes. Each is loaded only when asked
 * for (the live terminal view and the XML writer are sizeable: a run starts faster without what it does not print).
 */
export const REPORTERS: Record<string, ReporterEntry> = {
  pretty: { writes: 'stdout', create: async () => (await import('./pretty.ts')).prettyReporter() },
  plain: { writes: 'stdout', create: async () => (await import('./plain.ts')).plainReporter() },
  json: { writes: 'stdout', create: async () => (await import('./json.ts')).jsonReporter() },
  github: { writes: 'stdout', create: async ({ outDir }) => (await import('./github.ts')).githubReporter(outDir) },
  junit: { writes: 'file', create: async (options) => (await import('./junit.ts')).junitReporter(folder(options)) },
  markdown: { writes: 'file', create: async (options) => (await import('./markdown.ts')).markdownReporter(folder(options)) },
  html: { writes: 'file', create: async (options) => (await import('./html.ts')).htmlReporter(folder(options)) },
};

/** The live view this stdout can show: `pretty` needs a terminal that is not CI; anything else gets `plain`. */
export function liveView(stdout: { isTTY?: boolean } = process.stdout, env: NodeJS.ProcessEnv = process.env): 'pretty' | 'plain' {
  return stdout.isTTY && !env['CI'] ? 'pretty' : 'plain';
}

export type ReporterChoice = { names: string[]; notes: string[] } | { error: string };

/**
 * Which reporters a run gets: at most one on stdout (none asked for: the live view), `pretty` only where it can draw
 * (elsewhere `plain`, said once on stderr), file reporters only with a folder to write to.
 */
export function chooseReporters(requested: string | undefined, outDir: string | undefined, stdout: { isTTY?: boolean } = process.stdout, env = process.env): ReporterChoice {
  const names = (requested ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  const notes: string[] = [];
  for (const name of names) {
    if (!REPORTERS[name]) return { error: `unknown reporter \`${name}\`, expected one of: ${Object.keys(REPORTERS).join(', ')}` };
  }
  const onStdout = names.filter((name) => REPORTERS[name]!.writes === 'stdout');
  if (onStdout.length > 1) return { error: `reporters ${onStdout.join(' and ')} would both write to stdout, expected at most one (files: ${fileReporters().join(', ')} with --out)` };
  const files = names.filter((name) => REPORTERS[name]!.writes === 'file');
  if (files.length > 0 && !outDir) return { error: `reporter ${files.join(', ')} writes files, expected --out DIR` };
  const chosen = onStdout.length === 0 ? [liveView(stdout, env), ...files] : names;
  const live = liveView(stdout, env);
  return {
    names: chosen.map((name) => {
      if (name !== 'pretty' || live === 'pretty') return name;
      notes.push('pretty needs a terminal; using plain');
      return 'plain';
    }),
    notes,
  };
}

function fileReporters(): string[] {
  return Object.entries(REPORTERS)
    .filter(([, entry]) => entry.writes === 'file')
    .map(([name]) => name);
}
