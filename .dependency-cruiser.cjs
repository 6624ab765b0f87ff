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

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle makes two modules one: neither can be read, tested or loaded lazily on its own.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'common-imports-no-room',
      comment: 'common/ is the floor every folder stands on: it imports none of them.',
      severity: 'error',
      from: { path: '^common/' },
      to: { path: ROOMS, pathNot: '^common/' },
    },
    {
      name: 'runner-imports-only-common',
      comment: 'runner/ knows nothing of the sandbox, the checks or the CLI: the sandbox reaches it as an injected provider.',
      severity: 'error',
      from: { path: '^runner/' },
      to: { path: '^(cli|checks|sandbox|e2e|bench)/' },
    },
    {
      name: 'sandbox-imports-only-common',
      comment: 'sandbox/ is a tenant the runner talks to over the network: it imports no runner, check or CLI code.',
      severity: 'error',
      from: { path: '^sandbox/' },
      to: { path: '^(cli|runner|checks|e2e|bench)/' },
    },
    {
      name: 'checks-read-the-public-model',
      comment: "checks/ read the parser's public model (runner/model.ts, runner/parse/index.ts), never its internals, the engine or the sandbox.",
      severity: 'error',
      from: { path: '^checks/' },
      to: { path: '^(runner|sandbox|e2e|bench)/', pathNot: '^runner/(model\\.ts|parse/index\\.ts)$' },
    },
    {
      name: 'only-tests-reach-up-to-cli',
      comment: 'Nothing below cli/ imports it; a test may, to drive its folder through the command that wires it.',
      severity: 'error',
      from: { path: '^(common|runner|checks|sandbox)/', pathNot: TEST },
      to: { path: '^cli/' },
    },
    {
      name: 'cli-imports-no-tests-tree',
      comment: 'cli/ is what ships: it never imports the e2e suite or the benchmarks.',
      severity: 'error',
      from: { path: '^cli/' },
      to: { path: '^(e2e|bench)/' },
    },
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
