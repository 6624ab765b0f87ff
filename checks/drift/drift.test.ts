import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { diagnostic } from '../../common/diagnostics.ts';
import { checkCommand } from '../../cli/commands/checks.ts';
import { captureIO, copyPlatform, edit, formatted, parse, parseFixture, PLATFORM, positionOf, ROOT, SAMPLE, writeRepo } from '../testing.ts';
import { checkDrift } from './index.ts';
import type { ReplayRunner } from './types.ts';

const SOURCE = readFileSync(path.join(ROOT, SAMPLE), 'utf8');
/** Within the sample's 90-day review window, so only the mutation under test can fail the check. */
const NOW = new Date('2026-07-01T12:00:00Z');
const at = (text: string, nth = 1) => `${SAMPLE}:${positionOf(SOURCE, text, nth)}`;

/** Runs checkDrift and the check command over a mutated copy of the platform fixture. */
async function driftAfter(mutate: (dir: string) => void): Promise<{ findings: string[]; exit: number; stdout: string[] }> {
  const platform = copyPlatform();
  try {
    mutate(platform.dir);
    const findings = formatted(await checkDrift(parseFixture(), { repo: platform.dir, now: NOW }));
    const io = captureIO();
    const previous = process.cwd();
    process.chdir(ROOT);
    try {
      const exit = await checkCommand({ file: SAMPLE, repo: platform.dir }, { now: NOW, io });
      return { findings, exit, stdout: io.out };
    } finally {
      process.chdir(previous);
    }
  } finally {
    platform.dispose();
  }
}

describe('checkDrift over the platform fixture', () => {
  it('passes on the untouched platform repo', async () => {
    const { findings, exit, stdout } = await driftAfter(() => {});
    assert.deepEqual(findings, []);
    assert.deepEqual(stdout, []);
    assert.equal(exit, 0);
  });

  it('passes on fixtures/platform itself', async () => {
    assert.deepEqual(formatted(await checkDrift(parseFixture(), { repo: PLATFORM, now: NOW })), []);
  });

  it('fails at every mention when the env var is renamed in graph_client.py', async () => {
    const { findings, exit, stdout } = await driftAfter((dir) =>
      edit(dir, 'services/backend/src/services/agent_identity/graph_client.py', 'MICROSOFT_GRAPH_CLIENT_SECRET', 'MSGRAPH_CLIENT_SECRET'),
    );
    const message = 'Unexpected env var `MICROSOFT_GRAPH_CLIENT_SECRET` that no platform code names, expected `MSGRAPH_CLIENT_SECRET` [drift-env]';
    const span = (nth: number) => {
      const [line, column] = positionOf(SOURCE, 'MICROSOFT_GRAPH_CLIENT_SECRET', nth).split(':').map(Number);
      return `${SAMPLE}:${line}:${column}-${line}:${column! + 'MICROSOFT_GRAPH_CLIENT_SECRET'.length}`;
    };
    // Prose (`GraphConfig.from_env()` paragraph) and the verify block's grep.
    assert.deepEqual(findings, [`${span(1)}: ${message}`, `${span(2)}: ${message}`]);
    assert.equal(exit, 1);
    assert.deepEqual(stdout, findings);
  });

  it('fails at the script path when the wiring script is removed', async () => {
    const { findings, exit } = await driftAfter((dir) => rmSync(path.join(dir, 'scripts/fm_m365_wire_org.py')));
    assert.deepEqual(findings, [
      `${at('scripts/fm_m365_wire_org.py')}-${positionOf(SOURCE, 'scripts/fm_m365_wire_org.py').replace(/:(\d+)$/, (_, c: string) => `:${Number(c) + 27}`)}: Unexpected path \`scripts/fm_m365_wire_org.py\` that is not in the platform repo, expected a path the platform repo has [drift-path]`,
      // The checkout path on the VPS (`~/platform/scripts/...`) claims the same repo file.
      `${at('scripts/fm_m365_wire_org.py', 2)}-${positionOf(SOURCE, 'scripts/fm_m365_wire_org.py', 2).replace(/:(\d+)$/, (_, c: string) => `:${Number(c) + 27}`)}: Unexpected path \`scripts/fm_m365_wire_org.py\` that is not in the platform repo, expected a path the platform repo has [drift-path]`,
    ]);
    assert.equal(exit, 1);
  });

  it('fails at the flag when --backend is dropped from the deploy script', async () => {
    const { findings, exit } = await driftAfter((dir) => {
      edit(dir, 'scripts/deploy-to-vps.sh', '    --backend) DEPLOY_BACKEND=1; shift ;;\n', '');
      edit(dir, 'scripts/deploy-to-vps.sh', '[--backend] ', '');
    });
    assert.deepEqual(findings, [
      `${at('--backend')}-${positionOf(SOURCE, '--backend').replace(/:(\d+)$/, (_, c: string) => `:${Number(c) + 9}`)}: Unexpected flag \`--backend\` for \`deploy-to-vps.sh\`, expected one of: --branch, --help [drift-flag]`,
    ]);
    assert.equal(exit, 1);
  });

  it('fails at every mention when a container is renamed in compose', async () => {
    const { findings, exit } = await driftAfter((dir) =>
      edit(dir, 'docker-compose.production.yml', 'container_name: curateme-backend-b2b', 'container_name: curateme-api-b2b'),
    );
    assert.deepEqual(
      findings.map((line) => line.split(': ')[0]!.replace(/-\d+:\d+$/, '')),
      // Front matter `related-services` (1) and every prose and code mention.
      [1, 2, 3, 4, 5].map((nth) => at('curateme-backend-b2b', nth)),
    );
    assert.ok(findings.every((line) => line.endsWith('Unexpected compose service or container `curateme-backend-b2b`, expected `curateme-api-b2b` [drift-compose]')), findings.join('\n'));
    assert.equal(exit, 1);
  });

  it('fails at the quoted message when the RuntimeError text changes', async () => {
    const { findings, exit } = await driftAfter((dir) =>
      edit(dir, 'services/backend/src/services/agent_identity/graph_client.py', '"Microsoft Graph not configured. Missing env vars: "', '"Graph settings incomplete: "'),
    );
    assert.deepEqual(findings, [
      `${at('Microsoft Graph not configured.')}-${positionOf(SOURCE, 'Microsoft Graph not configured.').replace(/:(\d+)$/, (_, c: string) => `:${Number(c) + 49}`)}: Unexpected error text "Microsoft Graph not configured. Missing env vars:" that no platform code contains, expected the message as the code raises it [drift-error-text]`,
    ]);
    assert.equal(exit, 1);
  });

  it('fails at the mention when a method is renamed', async () => {
    const { findings } = await driftAfter((dir) => edit(dir, 'services/backend/src/services/agent_identity/graph_client.py', 'def from_env(', 'def from_environment('));
    assert.equal(findings.length, 1);
    assert.ok(findings[0]!.startsWith(`${at('GraphConfig.from_env()')}-`), findings[0]);
    assert.match(findings[0]!, /class `GraphConfig` has no `from_env`, expected `from_environment` \[drift-symbol\]$/);
  });
});

describe('freshness', () => {
  it('fails at the last-validated key when it is older than review-every', async () => {
    const findings = formatted(await checkDrift(parseFixture(), { repo: PLATFORM, now: new Date('2026-11-30T08:00:00Z') }));
    assert.deepEqual(findings, [
      `${at('last-validated')}-${positionOf(SOURCE, 'last-validated').replace(/:\d+$/, ':15')}: Unexpected last-validated 2026-06-14 (169 days ago), expected a validation within 90 days (review-every) [drift-stale]`,
    ]);
  });

  it('lets --max-age override review-every both ways', async () => {
    const parsed = parseFixture();
    assert.deepEqual(formatted(await checkDrift(parsed, { repo: PLATFORM, now: new Date('2026-11-30'), maxAgeDays: 200 })), []);
    const strict = formatted(await checkDrift(parsed, { repo: PLATFORM, now: new Date('2026-06-20'), maxAgeDays: 5 }));
    assert.equal(strict.length, 1);
    assert.match(strict[0]!, /\(6 days ago\), expected a validation within 5 days \(--max-age\) \[drift-stale\]$/);
  });

  it('fails when a runbook has no last-validated', async () => {
    const repo = writeRepo({ 'README.md': 'x' });
    const findings = formatted(await checkDrift(parse('---\ntitle: t\n---\n# T\n\n```ts step\nawait $`true`\n```\n'), { repo, now: NOW }));
    assert.deepEqual(findings, ['runbook.md:1:1: Unexpected runbook with no `last-validated`, expected the date it was last validated (YYYY-MM-DD) [drift-stale]']);
  });

  it('asks no freshness of a document that is not a runbook (no steps, no runbook keys)', async () => {
    const repo = writeRepo({ 'README.md': 'x' });
    assert.deepEqual(formatted(await checkDrift(parse('---\ntitle: Usage\nhide: [toc]\n---\n# Usage\n\n```bash\ntrue\n```\n'), { repo, now: NOW })), []);
  });
});

describe('exemptions', () => {
  const repo = writeRepo({ 'app/main.py': 'import os\nos.environ["REAL_SETTING_NAME"]\n' });
  after(() => rmSync(repo, { recursive: true, force: true }));
  const doc = (body: string, frontMatter = '') => parse(`---\nlast-validated: 2026-06-30\n${frontMatter}---\n\n${body}`);

  it('reports a mention no comment exempts', async () => {
    const findings = formatted(await checkDrift(doc('Set `THIRD_PARTY_TOKEN` env var.\n'), { repo, now: NOW }));
    assert.equal(findings.length, 1);
    assert.match(findings[0]!, /^runbook\.md:5:6-5:23: Unexpected env var `THIRD_PARTY_TOKEN`/);
  });

  it('exempts a mention with a reasoned drift-ignore comment on the line before', async () => {
    const body = '<!-- drift-ignore: THIRD_PARTY_TOKEN reason="set by the vendor CLI, not our code" -->\nSet `THIRD_PARTY_TOKEN` env var.\n';
    assert.deepEqual(formatted(await checkDrift(doc(body), { repo, now: NOW })), []);
  });

  it('does not carry an exemption past the element that follows it', async () => {
    const body = '<!-- drift-ignore: THIRD_PARTY_TOKEN reason="vendor" -->\nSet `THIRD_PARTY_TOKEN` env var.\n\nThen `THIRD_PARTY_TOKEN` env var.\n';
    const findings = formatted(await checkDrift(doc(body), { repo, now: NOW }));
    assert.deepEqual(findings.map((line) => line.split(': ')[0]), ['runbook.md:8:7-8:24']);
  });

  it('reports an exemption without a reason, and does not honour it', async () => {
    const body = '<!-- drift-ignore: THIRD_PARTY_TOKEN -->\nSet `THIRD_PARTY_TOKEN` env var.\n';
    const findings = formatted(await checkDrift(doc(body), { repo, now: NOW }));
    assert.deepEqual(findings.map((line) => line.replace(/^runbook\.md:(\S+): .*\[(.+)\]$/, '$1 $2')), ['5:1-5:41 drift-ignore', '6:6-6:23 drift-env']);
    assert.match(findings[0]!, /Unexpected drift-ignore for `THIRD_PARTY_TOKEN` without a reason, expected reason=/);
  });

  it('exempts every mention listed in front matter with a reason', async () => {
    const frontMatter = 'drift-ignore:\n  - mention: THIRD_PARTY_TOKEN\n    reason: vendor CLI\n';
    assert.deepEqual(formatted(await checkDrift(doc('`THIRD_PARTY_TOKEN`\n\nand `THIRD_PARTY_TOKEN`\n', frontMatter), { repo, now: NOW })), []);
  });

  it('reports a front matter exemption without a reason at its key', async () => {
    const frontMatter = 'drift-ignore:\n  - mention: THIRD_PARTY_TOKEN\n';
    const findings = formatted(await checkDrift(doc('`THIRD_PARTY_TOKEN` env var\n', frontMatter), { repo, now: NOW }));
    assert.deepEqual(findings.map((line) => line.replace(/^runbook\.md:(\S+): .*\[(.+)\]$/, '$1 $2')), ['3:1-3:13 drift-ignore', '7:2-7:19 drift-env']);
  });

  it('warns about an exemption that covers no mention', async () => {
    const body = '<!-- drift-ignore: GONE_VARIABLE reason="was removed" -->\nNothing here.\n';
    const findings = formatted(await checkDrift(doc(body), { repo, now: NOW }));
    assert.deepEqual(findings, ['runbook.md:5:1-5:58: warning: Unexpected drift-ignore for `GONE_VARIABLE` that covers no mention, expected it right before the element that mentions it [drift-ignore]']);
  });
});

describe('replay', () => {
  it('passes on each failure message of the injected replay unchanged', async () => {
    const calls: string[] = [];
    const failed = diagnostic('expect(received).toBe(expected)', { file: SAMPLE, place: { line: 31, column: 1 }, ruleId: 'run-verify', note: 'Expected: 200\nReceived: 401' });
    const replay: ReplayRunner = async (file) => {
      calls.push(file);
      return { messages: [failed] };
    };
    const findings = await checkDrift(parseFixture(), { repo: PLATFORM, now: NOW, replay });
    assert.deepEqual(calls, [SAMPLE]);
    assert.equal(findings[0], failed);
    assert.deepEqual(formatted(findings), [`${SAMPLE}:31:1: expect(received).toBe(expected) [run-verify]`]);
  });

  it('does not replay unless asked', async () => {
    const io = captureIO();
    let called = false;
    const replay: ReplayRunner = async () => {
      called = true;
      return { messages: [] };
    };
    const previous = process.cwd();
    process.chdir(ROOT);
    try {
      assert.equal(await checkCommand({ file: SAMPLE }, { now: NOW, io, replay }), 0);
      assert.equal(called, false);
      assert.equal(await checkCommand({ file: SAMPLE, replay: true }, { now: NOW, io, replay }), 0);
      assert.equal(called, true);
    } finally {
      process.chdir(previous);
    }
  });

  it('turns a crashing replay into a finding instead of a stack trace', async () => {
    const replay: ReplayRunner = async () => {
      throw new Error('sandbox did not start');
    };
    const findings = formatted(await checkDrift(parseFixture(), { repo: PLATFORM, now: NOW, replay }));
    assert.deepEqual(findings, [`${SAMPLE}:1:1: Unexpected replay failure: sandbox did not start, expected the runbook to run on the sandbox [drift-replay]`]);
  });
});

describe('compose names', () => {
  const repo = writeRepo({
    'docker-compose.yml': 'name: shop\nservices:\n  web-api:\n    container_name: shop-web-api\n  web-worker: {}\n',
  });
  after(() => rmSync(repo, { recursive: true, force: true }));
  const check = async (body: string) => formatted(await checkDrift(parse(`---\nlast-validated: 2026-06-30\n---\n\n${body}`), { repo, now: NOW }));

  it('checks the services a compose verb names and the containers a docker command names', async () => {
    const findings = await check('```bash\ndocker compose restart web-apii web-worker\ndocker logs --tail 5 shop-web\ndocker exec shop-web-api ls\n```\n');
    assert.deepEqual(findings.map((line) => line.replace(/^runbook\.md:(\S+): Unexpected compose service or container `([^`]+)`.*$/, '$1 $2')), ['6:24-6:32 web-apii', '7:22-7:30 shop-web']);
  });

  it('does not take a kebab-case word that starts like a service for one (paperless-ngx, awx-manage)', async () => {
    assert.deepEqual(await check('Restart `web-apii` and shop-web, keep web-worker.\n\n```bash\ndocker compose exec web-api awx-manage migrate\n```\n'), []);
  });

  it('leaves other kebab words alone', async () => {
    assert.deepEqual(await check('Name it graph-secret-2026-06 with --force-recreate on curate-me.ai via fm-dogfood/notes.\n'), []);
  });
});
