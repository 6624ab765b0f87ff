import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { writePrivateFile } from '../../common/private-files.ts';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { diagnostic, RunbookInputError } from '../../common/diagnostics.ts';
import type { Block, Runbook } from '../model.ts';
import { SHELL_LANGS } from '../parse/languages.ts';
import { blockSyntaxDiagnostics } from '../parse/syntax.ts';

/** The names every block sees; the context object provides each of them. */
export const BLOCK_GLOBALS = [
  '$', 'state', 'target', 'secrets', 'console', 'expect', 'result', 'step', 'fs', 'path', 'os', 'sleep', 'retry',
  'YAML', 'glob', 'which', 'quote', 'fetch', 'signal', 'msal', 'graph', 'trust', 'refuse',
] as const;

/** The block names that come from the whole of zx rather than its core: loaded only for a document naming one. */
export const ZX_LIBRARY_GLOBALS = ['fs', 'glob', 'YAML', 'sleep', 'retry'] as const;

// A name not inside a longer identifier. `${` (template interpolation) is no use of `$`.
const GLOBAL_USE = new Map(BLOCK_GLOBALS.map((name) => [name, new RegExp(`(?<![\\w$])${name.replace('$', '\\$')}(?![\\w$]|(?<=\\$)\\{)`)]));

/**
 * The globals a block's code names (a superset: a name in a comment or a string counts too). A block destructures only
 * these, so the costly ones (a zx instance, a console) are made only for blocks that use them: a verify that reads
 * `result` and calls `expect` costs next to nothing.
 */
export function globalsUsedBy(code: string): string[] {
  return BLOCK_GLOBALS.filter((name) => GLOBAL_USE.get(name)!.test(code));
}

export type BlockFunction = (context: Record<string, unknown>) => Promise<unknown>;

/** The names a block binds for itself on each execution; everything else is the same for the whole run. */
export const PER_BLOCK_GLOBALS = ['$', 'console', 'result', 'step', 'signal'] as const;

export interface CompiledRunbook {
  modulePath: string;
  /** Maps a position in the compiled module (1-based) back to the Markdown (1-based), when it is inside a block. */
  toSource(line: number, column: number): { line: number; column: number } | undefined;
}

/**
 * Turns every runnable block of the document into one ES module, keeping each code line on the same line and column
 * as in the Markdown (the fence lines carry the function wrappers, all prose lines are blank), as zx's markdown mode
 * does. The source map of the transpiled module therefore leads straight to `runbook.md:LINE:COL`. It is applied
 * only when a failure is described, not process-wide: global source maps would tax every stack trace (zx takes one
 * per command). One module, one import: blocks share one runtime and pay no per-block start-up.
 *
 * The module exports one function, `__instantiate`, whose body is the document's run scope: the block names are
 * variables of that scope, `setup` blocks are plain statements in it (their declarations are seen by every block),
 * and each other block is a function in it that binds the names it uses on entry. A setup helper that runs `$` thus
 * uses the `$` of the block calling it (its output, its timeout). Every block is first parsed alone (syntax.ts), so
 * unbalanced braces can never move code out of its block.
 */
export async function compileRunbook(runbook: Runbook, cacheDir: string): Promise<CompiledRunbook> {
  const sourcePath = path.resolve(runbook.file);
  const lines = runbook.source.split('\n').map(() => '');
  const setupCode = runbook.blocks.filter((block) => block.role === 'setup').map((block) => block.code).join('\n');
  const setupNames = globalsUsedBy(setupCode);
  lines[0] = `export async function __instantiate(__run) { let ${BLOCK_GLOBALS.join(', ')}; ({ ${BLOCK_GLOBALS.join(', ')} } = __run); const __blocks = [];`;
  const runnable = runbook.blocks.filter((block) => block.role !== 'expect');
  for (const block of runnable) {
    if (isShell(block)) {
      // A shell block is data to the module: its script runs through the block's own `$` (its output, timeout and
      // kill), so the fence line holds the whole function and the script's lines stay blank.
      lines[block.span.start.line - 1] = `__blocks[${block.index}] = (__context) => __context.runScript(${JSON.stringify(block.lang)}, ${JSON.stringify(block.code)});`;
      continue;
    }
    const setup = block.role === 'setup';
    const names = [...new Set([...globalsUsedBy(block.code), ...setupNames])];
    // Setup statements belong to the run scope itself: no wrapper, so what they declare is visible to every block.
    const header = setup ? '' : `__blocks[${block.index}] = async function (__context) { ({ ${names.join(', ')} } = __context); { `;
    // Front matter occupies line 1 only when present; a block can never start on line 1 (its fence is there).
    lines[block.span.start.line - 1] = (block.span.start.line === 1 ? lines[0] : '') + header;
    const code = block.code.split('\n');
    for (let i = 0; i < code.length; i += 1) lines[block.codeLine - 1 + i] = code[i]!;
    // The inner braces give the block its own scope: a block may declare `const result` without a clash.
    lines[block.span.end.line - 1] = setup ? '' : '} };';
  }
  lines.push('return __blocks; }');
  const generated = lines.join('\n');
  const hash = createHash('sha256').update(sourcePath).update('\0').update(generated).digest('hex').slice(0, 16);
  const modulePath = path.join(cacheDir, `${path.basename(sourcePath)}.${hash}.mjs`);

  const mapPath = `${modulePath}.map`;
  // The same document compiles to the same module: a cached one is reused, so a re-run pays no transpile.
  if (!existsSync(modulePath) || !existsSync(mapPath)) {
    // Only a document never compiled before is parsed block by block (a cached module passed this already).
    const syntax = blockSyntaxDiagnostics(runbook);
    if (syntax.length > 0) throw new RunbookInputError(syntax);
    let output: { code: string; map: string };
    try {
      // Loaded only on a cache miss: a re-run of an unchanged document never loads the compiler.
      const { transform } = await import('esbuild');
      output = await transform(generated, {
        loader: 'ts',
        format: 'esm',
        target: 'node20',
        sourcemap: 'external',
        sourcefile: sourcePath,
        sourcesContent: false,
      });
    } catch (error) {
      throw new RunbookInputError(syntaxDiagnostics(runbook, error));
    }
    await mkdir(cacheDir, { recursive: true, mode: 0o700 });
    await writePrivateFile(mapPath, output.map);
    await writePrivateFile(modulePath, output.code);
  }
  return { modulePath, toSource: sourceMapper(mapPath) };
}

/** Maps a compiled-module position back to the document; the map is read only to describe a failure. */
function sourceMapper(mapPath: string): CompiledRunbook['toSource'] {
  let map: SourceMap | undefined;
  return (line, column) => {
    map ??= new SourceMap(JSON.parse(readFileSync(mapPath, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
    const entry = map.findEntry(line - 1, column - 1) as { originalLine?: number; originalColumn?: number };
    if (entry.originalLine === undefined || entry.originalColumn === undefined) return undefined;
    return { line: entry.originalLine + 1, column: entry.originalColumn + 1 };
  };
}

/**
 * Imports a compiled module, in the thread that runs the blocks (runtime.ts): the runner itself never loads it.
 * `instantiate` runs the document's setup with the run's names and returns the block functions, by `Block.index`.
 */
export async function loadCompiled(modulePath: string): Promise<CompiledRunbook & { instantiate(run: Record<string, unknown>): Promise<BlockFunction[]> }> {
  const module = (await import(pathToFileURL(modulePath).href)) as { __instantiate(run: Record<string, unknown>): Promise<BlockFunction[]> };
  return { instantiate: (run) => module.__instantiate(run), modulePath, toSource: sourceMapper(`${modulePath}.map`) };
}

interface EsbuildMessage {
  text: string;
  location: { line: number; column: number; length: number } | null;
}

function syntaxDiagnostics(runbook: Runbook, error: unknown) {
  const errors = (error as { errors?: EsbuildMessage[] }).errors ?? [];
  if (errors.length === 0) {
    return [diagnostic(`Unexpected compile failure: ${String(error)}`, { file: runbook.file, ruleId: 'block-syntax' })];
  }
  return errors.map((message) => {
    const line = message.location?.line ?? 1;
    const column = (message.location?.column ?? 0) + 1;
    const block = blockAt(runbook.blocks, line);
    return diagnostic(`Unexpected syntax in \`${block?.role ?? 'ts'}\` block: ${message.text}`, {
      file: runbook.file,
      place: { start: { line, column }, end: { line, column: column + (message.location?.length ?? 0) } },
      ruleId: 'block-syntax',
    });
  });
}

export function isShell(block: Block): boolean {
  return SHELL_LANGS.has(block.lang);
}

export function blockAt(blocks: readonly Block[], line: number): Block | undefined {
  return blocks.find((block) => block.span.start.line <= line && line <= block.span.end.line);
}
