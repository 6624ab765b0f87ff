import ts from 'typescript';
import { diagnostic, type Diagnostic } from '../../common/diagnostics.ts';
import type { Block, Runbook } from '../model.ts';

/**
 * Parses each code block on its own, as the body it will be (a function body for blocks, the run scope for setup),
 * with TypeScript's parser: a mistake is reported at the user's line, never at a wrapper's brace, and a block whose
 * braces do not balance is refused before it is put together with the others, so no code can leave its block.
 * TypeScript accepts `await` and `return` at the top of a file syntactically, which is exactly a block's body.
 */
export function blockSyntaxDiagnostics(runbook: Pick<Runbook, 'file' | 'blocks'>): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const block of runbook.blocks) {
    if (block.role === 'expect' || !isScript(block)) continue;
    const source = ts.createSourceFile('block.ts', block.code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
    const parsed = (source as unknown as { parseDiagnostics: readonly ts.DiagnosticWithLocation[] }).parseDiagnostics;
    for (const problem of parsed.slice(0, 1)) {
      const at = source.getLineAndCharacterOfPosition(Math.min(problem.start, Math.max(0, block.code.trimEnd().length - 1)));
      const line = block.codeLine + at.line;
      const column = at.character + 1;
      found.push(
        diagnostic(`Unexpected syntax in \`${block.lang} ${block.role}\` block: ${ts.flattenDiagnosticMessageText(problem.messageText, ' ')}`, {
          file: runbook.file,
          place: { start: { line, column }, end: { line, column: column + Math.max(1, problem.length) } },
          ruleId: 'block-syntax',
        }),
      );
    }
  }
  return found;
}

function isScript(block: Block): boolean {
  return !['bash', 'sh', 'shell'].includes(block.lang);
}
