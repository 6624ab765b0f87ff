import ts from 'typescript';
import { codeRegions, SCRIPT_LANGS } from '../../markdown.ts';
import type { LintRule } from '../types.ts';

/**
 * Secrets tracked by where their value came from, not by what a variable is called: a value is secret when it comes
 * from `secrets.read`, `secrets.fromCommand` or `secrets.mark`, from reading a file that a block reads or writes as a
 * secret, or from a field that carries one (`secretText`, `accessToken`); it stays secret through `await`, string
 * methods, templates, concatenation and assignments (to `state` too, across blocks). It must not reach `console.*`, a
 * command line (a zx template, or a setup helper that puts its argument in one) or a step's return value (journaled
 * and reported). Its `.length`, a comparison or a method that reduces it (a digest's `.digest()`) is not the secret.
 *
 * Functions: one the document defines (in setup or a block) is read: its result is secret when its body returns a
 * secret, or something made from its parameters given a secret argument. One it does not define (a library's, an
 * import's) is unknown: what it makes of a secret argument is taken to be secret (an encoder, a wrapper, a client),
 * except for the few whose result is known not to carry it (`REDUCERS`: a length, a request's response, a check).
 */
const SOURCES = new Set(['read', 'fromCommand', 'mark']);
const SECRET_FIELDS = new Set(['secretText', 'accessToken', 'clientSecret']);
const PASS_THROUGH = new Set([
  'trim', 'trimStart', 'trimEnd', 'slice', 'substring', 'substr', 'toString', 'replace', 'replaceAll', 'split', 'padStart',
  'padEnd', 'concat', 'toUpperCase', 'toLowerCase', 'normalize', 'at', 'charAt', 'join', 'valueOf', 'then',
]);
const ENCODERS = new Set(['String', 'JSON.stringify', 'Buffer.from', 'encodeURIComponent', 'encodeURI', 'btoa', 'escape']);
const FILE_READERS = new Set(['fs.readFile', 'fs.readFileSync', 'fs.readJson', 'readFile', 'readFileSync']);
/** Functions that take a secret and return something that is not it. */
const REDUCERS = new Set([
  'Buffer.byteLength', 'Boolean', 'isNaN', 'Number.isInteger', 'fetch', 'expect', 'refuse', 'sleep', 'retry', 'setTimeout',
  'secrets.toCommand', 'secrets.write', 'timingSafeEqual', 'crypto.timingSafeEqual', 'fs.writeFile', 'fs.appendFile', 'fs.outputFile',
  'writeFile', 'appendFile', 'fs.pathExists', 'existsSync', 'Object.keys', 'Array.isArray',
]);

interface Flow {
  /** Names (variables) and `state.X` keys known to hold a secret. */
  tainted: Set<string>;
  /** Source text of expressions naming a secret file. */
  secretFiles: Set<string>;
  /** Functions the document defines that return a secret. */
  returnsSecret: Set<string>;
  /** Functions the document defines whose result is made from their parameters (a secret argument, a secret result). */
  passesThrough: Set<string>;
  /** Every function the document defines: read, so never unknown. */
  defined: Set<string>;
  /** Functions (from setup) that put their argument at this index on a command line. */
  commandHelpers: Map<string, number>;
}

const unwrap = (node: ts.Expression): ts.Expression =>
  ts.isParenthesizedExpression(node) || ts.isAwaitExpression(node) || ts.isNonNullExpression(node) || ts.isAsExpression(node) || ts.isTypeAssertionExpression(node)
    ? unwrap(node.expression)
    : node;

const calleeName = (node: ts.Expression): string => (ts.isIdentifier(node) ? node.text : ts.isPropertyAccessExpression(node) ? `${calleeName(node.expression)}.${node.name.text}` : '');

function stateKey(node: ts.Expression): string | undefined {
  return ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'state' ? `state.${node.name.text}` : undefined;
}

function isSecret(node: ts.Expression, flow: Flow): boolean {
  const expression = unwrap(node);
  if (ts.isIdentifier(expression)) return flow.tainted.has(expression.text);
  if (ts.isPropertyAccessExpression(expression)) {
    const key = stateKey(expression);
    if (key) return flow.tainted.has(key);
    if (SECRET_FIELDS.has(expression.name.text)) return true;
    if (expression.name.text === 'length') return false;
    return isSecret(expression.expression, flow);
  }
  if (ts.isElementAccessExpression(expression)) return isSecret(expression.expression, flow);
  if (ts.isCallExpression(expression)) {
    const callee = expression.expression;
    const name = calleeName(callee);
    if (name.startsWith('secrets.') && SOURCES.has(name.slice('secrets.'.length))) return true;
    if (flow.returnsSecret.has(name)) return true;
    if (ENCODERS.has(name)) return expression.arguments.some((argument) => isSecret(argument, flow));
    if (FILE_READERS.has(name)) return expression.arguments.length > 0 && flow.secretFiles.has(expression.arguments[0]!.getText());
    if (ts.isPropertyAccessExpression(callee) && PASS_THROUGH.has(callee.name.text)) return isSecret(callee.expression, flow);
    if (ts.isPropertyAccessExpression(callee) && isSecret(callee.expression, flow)) return false; // a method reducing it
    const secretArgument = expression.arguments.some((argument) => isSecret(argument, flow));
    if (flow.defined.has(name)) return secretArgument && flow.passesThrough.has(name);
    return secretArgument && !REDUCERS.has(name) && !REDUCERS.has(name.split('.').at(-1)!);
  }
  if (ts.isNewExpression(expression)) {
    // `new Client({ clientSecret })`: the object holds the secret (printing it prints the secret).
    return (expression.arguments ?? []).some((argument) => isSecret(argument, flow));
  }
  if (ts.isTemplateExpression(expression)) return expression.templateSpans.some((span) => isSecret(span.expression, flow));
  if (ts.isBinaryExpression(expression)) {
    const operator = expression.operatorToken.kind;
    if (operator === ts.SyntaxKind.PlusToken || operator === ts.SyntaxKind.QuestionQuestionToken || operator === ts.SyntaxKind.BarBarToken || operator === ts.SyntaxKind.AmpersandAmpersandToken) {
      return isSecret(expression.left, flow) || isSecret(expression.right, flow);
    }
    return false;
  }
  if (ts.isConditionalExpression(expression)) return isSecret(expression.whenTrue, flow) || isSecret(expression.whenFalse, flow);
  if (ts.isArrayLiteralExpression(expression)) return expression.elements.some((element) => ts.isExpression(element) && isSecret(element, flow));
  if (ts.isObjectLiteralExpression(expression)) {
    return expression.properties.some((property) => (ts.isPropertyAssignment(property) ? isSecret(property.initializer, flow) : ts.isShorthandPropertyAssignment(property) && flow.tainted.has(property.name.text)));
  }
  return false;
}

function parse(code: string): ts.SourceFile {
  return ts.createSourceFile('block.ts', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
}

/**
 * Learns from one block (or a function's body): secret files named, variables and state keys that receive a secret,
 * functions defined (to a fixpoint).
 */
function learn(source: ts.Node, flow: Flow, setup: boolean): void {
  for (let changed = true; changed; ) {
    changed = false;
    const mark = (name: string) => {
      if (!flow.tainted.has(name)) {
        flow.tainted.add(name);
        changed = true;
      }
    };
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && /^secrets\.(read|write)$/.test(calleeName(node.expression)) && node.arguments[0]) {
        flow.secretFiles.add(node.arguments[0].getText());
      }
      if (ts.isVariableDeclaration(node) && node.initializer) {
        if (ts.isIdentifier(node.name) && isSecret(node.initializer, flow)) mark(node.name.text);
        if ((ts.isObjectBindingPattern(node.name) || ts.isArrayBindingPattern(node.name)) && isSecret(node.initializer, flow)) {
          for (const element of node.name.elements) if (ts.isBindingElement(element) && ts.isIdentifier(element.name)) mark(element.name.text);
        }
        if (ts.isIdentifier(node.name) && (ts.isArrowFunction(node.initializer) || ts.isFunctionExpression(node.initializer))) {
          changed = learnFunction(node.name.text, node.initializer, flow, setup) || changed;
        }
      }
      if (ts.isFunctionDeclaration(node) && node.name && node.body) changed = learnFunction(node.name.text, node, flow, setup) || changed;
      if (ts.isBinaryExpression(node) && node.operatorToken.kind >= ts.SyntaxKind.FirstAssignment && node.operatorToken.kind <= ts.SyntaxKind.LastAssignment && isSecret(node.right, flow)) {
        const key = stateKey(node.left) ?? (ts.isIdentifier(node.left) ? node.left.text : undefined);
        if (key) mark(key);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
}

/** What a function returns: its expression body, or each `return` of its own (not of functions inside it). */
function returnedExpressions(fn: ts.FunctionLikeDeclaration): ts.Expression[] {
  const body = fn.body;
  if (!body) return [];
  if (ts.isExpression(body)) return [body];
  const found: ts.Expression[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isReturnStatement(node) && node.expression) found.push(node.expression);
    if (!ts.isFunctionLike(node)) ts.forEachChild(node, visit);
  };
  ts.forEachChild(body, visit);
  return found;
}

/**
 * A function the document defines: does it return a secret, or one made from a secret argument; and (setup helpers,
 * shared by every block) does it put a parameter on a command line? Returns whether it learned something new.
 */
function learnFunction(name: string, fn: ts.FunctionLikeDeclaration, flow: Flow, setup: boolean): boolean {
  const before = flow.returnsSecret.size + flow.passesThrough.size;
  flow.defined.add(name);
  const parameters = fn.parameters.map((parameter) => (ts.isIdentifier(parameter.name) ? parameter.name.text : ''));
  const returned = returnedExpressions(fn);
  if (returned.some((expression) => isSecret(expression, flow))) flow.returnsSecret.add(name);
  // With every parameter taken for a secret, and what the body derives from them, learned on a scratch copy: what is
  // secret only because a parameter is taken for one must not reach the document's flow.
  const scratch: Flow = {
    ...flow,
    tainted: new Set([...flow.tainted, ...parameters.filter(Boolean)]),
    returnsSecret: new Set(flow.returnsSecret),
    passesThrough: new Set(flow.passesThrough),
    defined: new Set(flow.defined),
    commandHelpers: new Map(flow.commandHelpers),
  };
  if (fn.body) learn(fn.body, scratch, false);
  if (returned.some((expression) => isSecret(expression, scratch))) flow.passesThrough.add(name);
  if (setup) learnCommandHelper(name, fn, parameters, flow);
  return flow.returnsSecret.size + flow.passesThrough.size !== before;
}

/** A setup helper that puts a parameter on a command line: a secret passed to it is on that command line. */
function learnCommandHelper(name: string, fn: ts.FunctionLikeDeclaration, parameters: string[], flow: Flow): void {
  const body = fn.body;
  if (!body) return;
  const visit = (node: ts.Node): void => {
    if (ts.isTaggedTemplateExpression(node) && isCommandTag(node.tag, flow) && ts.isTemplateExpression(node.template)) {
      for (const span of node.template.templateSpans) {
        const used = unwrap(span.expression);
        const index = ts.isIdentifier(used) ? parameters.indexOf(used.text) : -1;
        if (index >= 0) flow.commandHelpers.set(name, index);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(body);
}

function isCommandTag(tag: ts.Expression, flow: Flow): boolean {
  const expression = unwrap(tag);
  if (ts.isIdentifier(expression)) return expression.text === '$';
  if (ts.isCallExpression(expression)) return isCommandTag(expression.expression, flow);
  if (ts.isPropertyAccessExpression(expression)) return isCommandTag(expression.expression, flow);
  return false;
}

/** Reports what a secret reaches in one block. */
function sinks(source: ts.SourceFile, flow: Flow, role: string | undefined, report: (node: ts.Node, reason: string) => void): void {
  const visit = (node: ts.Node, inFunction: boolean): void => {
    if (ts.isCallExpression(node)) {
      const name = calleeName(node.expression);
      if (/^console\.\w+$/.test(name)) {
        for (const argument of node.arguments) if (isSecret(argument, flow)) report(argument, `Unexpected secret printed by \`${name}\`, expected its length or a digest, never the value`);
      }
      const index = flow.commandHelpers.get(name);
      const argument = index !== undefined ? node.arguments[index] : undefined;
      if (argument && isSecret(argument, flow)) report(argument, `Unexpected secret on a command line (through \`${name}\`), expected it passed through a file or stdin (\`secrets.toCommand\`)`);
    }
    if (ts.isTaggedTemplateExpression(node) && isCommandTag(node.tag, flow) && ts.isTemplateExpression(node.template)) {
      for (const span of node.template.templateSpans) {
        if (isSecret(span.expression, flow)) report(span.expression, 'Unexpected secret on a command line, expected it passed through a file or stdin (`secrets.toCommand`)');
      }
    }
    if (ts.isReturnStatement(node) && !inFunction && role === 'step' && node.expression && isSecret(node.expression, flow)) {
      report(node.expression, 'Unexpected secret as the step\u2019s return value (journaled and reported), expected a value that is not the secret');
    }
    const entersFunction = ts.isFunctionLike(node);
    ts.forEachChild(node, (child) => visit(child, inFunction || entersFunction));
  };
  visit(source, false);
}

export const secretFlow: LintRule = {
  id: 'secret-flow',
  description: 'A secret (by where it came from) never reaches console.*, a command line or a step\u2019s return value',
  check({ parsed, runbook, lines, report }) {
    const flow: Flow = { tainted: new Set(), secretFiles: new Set(), returnsSecret: new Set(), passesThrough: new Set(), defined: new Set(), commandHelpers: new Map() };
    const regions = codeRegions(parsed.tree, lines).filter((region) => SCRIPT_LANGS.has(region.lang));
    const roleAt = new Map(runbook.blocks.map((block) => [block.codeLine, block.role]));
    const parsedRegions = regions.map((region) => ({ region, source: parse(region.text), role: roleAt.get(lines.point(region.offset).line) }));
    // Setup first (its helpers), then every block twice: a state key tainted late in the document is seen everywhere.
    for (const { source, role } of parsedRegions) if (role === 'setup') learn(source, flow, true);
    for (let pass = 0; pass < 2; pass += 1) for (const { source, role } of parsedRegions) learn(source, flow, role === 'setup');
    for (const { region, source, role } of parsedRegions) {
      const place = (node: ts.Node) => lines.span(region.offset + node.getStart(source), region.offset + node.getEnd());
      sinks(source, flow, role, (node, reason) => report(reason, place(node)));
    }
  },
};

