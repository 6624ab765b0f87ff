import type { Reporter } from './events.ts';

export interface ReporterOptions {
  /** Folder for file-based reports (junit, markdown, github summary). */
  outDir: string;
}

export type ReporterFactory = (options: ReporterOptions) => Reporter | Promise<Reporter>;

/**
 * Every reporter by name; adding one is adding a line here, the engine never changes. Each is loaded only when asked
 * for (the live terminal view and the XML writer are sizeable: a run starts faster without what it does not print).
 */
export const REPORTERS: Record<string, ReporterFactory> = {
  pretty: async () => (await import('./pretty.ts')).prettyReporter(),
  plain: async () => (await import('./plain.ts')).plainReporter(),
  json: async () => (await import('./json.ts')).jsonReporter(),
  junit: async ({ outDir }) => (await import('./junit.ts')).junitReporter(outDir),
  markdown: async ({ outDir }) => (await import('./markdown.ts')).markdownReporter(outDir),
  github: async ({ outDir }) => (await import('./github.ts')).githubReporter(outDir),
};

export function defaultReporter(): string {
  return process.stdout.isTTY && !process.env['CI'] ? 'pretty' : 'plain';
}
