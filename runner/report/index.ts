import type { Reporter } from './events.ts';
import { jsonReporter } from './json.ts';
import { plainReporter } from './plain.ts';
import { prettyReporter } from './pretty.ts';
import { githubReporter } from './github.ts';
import { junitReporter } from './junit.ts';
import { markdownReporter } from './markdown.ts';

export interface ReporterOptions {
  /** Folder for file-based reports (junit, markdown, github summary). */
  outDir: string;
  file: string;
  source: string;
}

export type ReporterFactory = (options: ReporterOptions) => Reporter;

/** Every reporter by name; adding one is adding a line here, the engine never changes. */
export const REPORTERS: Record<string, ReporterFactory> = {
  pretty: () => prettyReporter(),
  plain: () => plainReporter(),
  json: () => jsonReporter(),
  junit: ({ outDir }) => junitReporter(outDir),
  markdown: ({ outDir }) => markdownReporter(outDir),
  github: ({ outDir }) => githubReporter(outDir),
};

export function registerReporter(name: string, factory: ReporterFactory): void {
  REPORTERS[name] = factory;
}

export function defaultReporter(): string {
  return process.stdout.isTTY && !process.env['CI'] ? 'pretty' : 'plain';
}
