/**
 * The one-way layers (issue 15), checked by `npm run test:deps` (part of `npm test`). Each rule is what one folder
 * may import; the README's layout table names the folders.
 *
 *   cli/      the one commander program; the only folder that wires runner, checks and sandbox together
 *   runner/   parse, plan, execute, journal, report: imports common/ only
 *   checks/   lint and drift rules: imports common/ and the parser's public model (runner/model.ts, runner/parse)
 *   sandbox/  the sandbox tenant: imports common/ only
 *   common/   what several folders need (positions and diagnostics, TLS trust, processes, repo paths, the duration
 *             grammar, exit codes, UsageError): imports none of the others
 *   e2e/, bench/  may import anything; nothing imports them
 *
 * Tests follow their folder's rule, except that a test may drive its folder through the CLI command that wires it.
 */
const ROOMS = '^(cli|common|runner|checks|sandbox|e2e|bench)/';
const TEST = '\\.test\\.ts$';

/** A layer rule: modules whose path matches `from` (but not `fromNot`) may not import those matching `to` (but not `toNot`). */
function forbid(name, comment, from, to, { fromNot, toNot } = {}) {
  return { name, comment, severity: 'error', from: { path: from, ...(fromNot ? { pathNot: fromNot } : {}) }, to: { path: to, ...(toNot ? { pathNot: toNot } : {}) } };
}

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle makes two modules one: neither can be read, tested or loaded lazily on its own.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    forbid('common-imports-no-room', 'common/ is the floor every folder stands on: it imports none of them.', '^common/', ROOMS, { toNot: '^common/' }),
    forbid(
      'runner-imports-only-common',
      'runner/ knows nothing of the sandbox, the checks or the CLI: the sandbox reaches it as an injected provider.',
      '^runner/',
      '^(cli|checks|sandbox|e2e|bench)/',
    ),
    forbid(
      'sandbox-imports-only-common',
      'sandbox/ is a tenant the runner talks to over the network: it imports no runner, check or CLI code.',
      '^sandbox/',
      '^(cli|runner|checks|e2e|bench)/',
    ),
    forbid(
      'checks-read-the-public-model',
      "checks/ read the parser's public model (runner/model.ts, runner/parse/index.ts), never its internals, the engine or the sandbox.",
      '^checks/',
      '^(runner|sandbox|e2e|bench)/',
      { toNot: '^runner/(model\\.ts|parse/index\\.ts)$' },
    ),
    forbid(
      'only-tests-reach-up-to-cli',
      'Nothing below cli/ imports it; a test may, to drive its folder through the command that wires it.',
      '^(common|runner|checks|sandbox)/',
      '^cli/',
      { fromNot: TEST },
    ),
    forbid('cli-imports-no-tests-tree', 'cli/ is what ships: it never imports the e2e suite or the benchmarks.', '^cli/', '^(e2e|bench)/'),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|fixtures|\\.runbook)/' },
    // `import type` counts: a type-only import still ties one folder's code to another's.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.mjs', '.js'] },
  },
};
