import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { transform } from 'esbuild';
import { diagnostic, RunbookInputError } from '../diagnostics.ts';
import type { Block, Runbook } from '../model.ts';

/** The names every block sees; the context object provides each of them. */
export const BLOCK_GLOBALS = [
  '$', 'state', 'target', 'secrets', 'console', 'expect', 'result', 'step', 'fs', 'path', 'os', 'sleep', 'retry',
  'YAML', 'glob', 'which', 'quote', 'fetch', 'signal', 'msal', 'graph', 'net',
] as const;

export type BlockFunction = (context: Record<string, unknown>) => Promise<unknown>;

export interface CompiledRunbook {
  /** The function of each runnable block, by `Block.index`. */
  blocks: BlockFunction[];
  modulePath: string;
}

/**
 * Turns every runnable block of the document into one ES module, keeping each code line on the same line and column
 * as in the Markdown (the fence lines carry the function wrappers, all prose lines are blank). The inline source map
 * then names the `.md` file, so a stack trace points at `runbook.md:LINE:COL` with no arithmetic — zx's markdown
 * mode does the same. One module, one import: blocks share one runtime and pay no per-block start-up.
 */
export async function compileRunbook(runbook: Runbook, cacheDir: string): Promise<CompiledRunbook> {
  const sourcePath = path.resolve(runbook.file);
  const lines = runbook.source.split('\n').map(() => '');
  lines[0] = 'export const __blocks = [];';
  const runnable = runbook.blocks.filter((block) => block.role !== 'expect');
  for (const block of runnable) {
    const header = `__blocks[${block.index}] = async function (__context) { const { ${BLOCK_GLOBALS.join(', ')} } = __context; { `;
    // Front matter occupies line 1 only when present; a block can never start on line 1 (its fence is there).
    lines[block.span.start.line - 1] = (block.span.start.line === 1 ? lines[0] : '') + header;
    const code = block.code.split('\n');
    for (let i = 0; i < code.length; i += 1) lines[block.codeLine - 1 + i] = code[i]!;
    // The inner braces give the block its own scope: a block may declare `const result` without a clash.
    lines[block.span.end.line - 1] = '} };';
  }
  const generated = lines.join('\n');
  const hash = createHash('sha256').update(sourcePath).update('\0').update(generated).digest('hex').slice(0, 16);
  const modulePath = path.join(cacheDir, `${path.basename(sourcePath)}.${hash}.mjs`);

  let code: string;
  try {
    const output = await transform(generated, {
      loader: 'ts',
      format: 'esm',
      target: 'node20',
      sourcemap: 'inline',
      // A file URL: zx records where a command was started by the first `file://` frame of the stack.
      sourcefile: pathToFileURL(sourcePath).href,
      sourcesContent: false,
    });
    code = output.code;
  } catch (error) {
    throw new RunbookInputError(syntaxDiagnostics(runbook, error));
  }
  await mkdir(cacheDir, { recursive: true });
  await writeFile(modulePath, code);
  // Stack traces then name `runbook.md:LINE:COL` (the map's source) instead of the generated module.
  process.setSourceMapsEnabled(true);
  const module = (await import(pathToFileURL(modulePath).href)) as { __blocks: BlockFunction[] };
  return { blocks: module.__blocks, modulePath };
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

export function blockAt(blocks: readonly Block[], line: number): Block | undefined {
  return blocks.find((block) => block.span.start.line <= line && line <= block.span.end.line);
}
