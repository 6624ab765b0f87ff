/**
 * The real runbook.md against mutated copies of the platform fixture: each change the platform could make under the
 * document's feet fails the check at a line of runbook.md that names the changed thing.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseRunbook } from '../../runner/parse/index.ts';
import { copyPlatform, edit, formatted, PLATFORM, ROOT } from '../testing.ts';
import { readBindings } from './bindings.ts';
import { checkDrift } from './index.ts';

const source = readFileSync(path.join(ROOT, 'runbook.md'), 'utf8');
const lines = source.split('\n');
const parsed = () => parseRunbook(source, 'runbook.md');
// The day it was last validated: only the mutation under test can fail the check, never the calendar.
const now = new Date(`${/^last-validated: (\S+)$/m.exec(source)![1]}T12:00:00Z`);

async function findingsAfter(mutate: (dir: string) => void): Promise<string[]> {
  const platform = copyPlatform();
  try {
    mutate(platform.dir);
    return formatted(await checkDrift(parsed(), { repo: platform.dir, now }));
  } finally {
    platform.dispose();
  }
}

/** Asserts there are findings with `rule`, and that every one sits on a runbook.md line that mentions `text`. */
function assertAtMentions(findings: string[], rule: string, text: string): void {
  const hits = findings.filter((finding) => finding.endsWith(`[${rule}]`));
  assert.ok(hits.length > 0, `no ${rule} finding in:\n${findings.join('\n')}`);
  for (const hit of hits) {
    const line = Number(/^runbook\.md:(\d+):/.exec(hit)?.[1]);
    assert.ok(lines[line - 1]?.includes(text), `${hit}\n  names line ${line}, which does not mention ${text}: ${lines[line - 1]}`);
  }
}

/** runbook.md's committed bindings (`runbook check --update` / `runbook validate` write them). */
const bindings = async () => (await readBindings(path.join(ROOT, 'runbook.md'))) ?? [];

describe('runbook.md against the platform repository', () => {
  it('matches fixtures/platform as it is', async () => {
    assert.deepEqual(formatted(await checkDrift(parsed(), { repo: PLATFORM, now })), []);
  });

  it('matches fixtures/platform with its committed bindings, and they name what was true when a name goes', async () => {
    assert.ok((await bindings()).length > 0, 'runbook.drift.json is committed beside runbook.md');
    assert.deepEqual(formatted(await checkDrift(parsed(), { repo: PLATFORM, now, bindings: await bindings() })), []);
    const platform = copyPlatform();
    try {
      edit(platform.dir, 'services/backend/src/services/agent_identity/graph_client.py', 'MICROSOFT_GRAPH_CLIENT_SECRET', 'MSGRAPH_CLIENT_SECRET');
      const findings = formatted(await checkDrift(parsed(), { repo: platform.dir, now, bindings: await bindings() }));
      assertAtMentions(findings, 'drift-env', 'MICROSOFT_GRAPH_CLIENT_SECRET');
      assert.ok(findings.every((finding) => finding.includes('(it was `services/backend/src/services/agent_identity/graph_client.py:')), findings.join('\n'));
    } finally {
      platform.dispose();
    }
  });

  it('fails where it names MICROSOFT_GRAPH_CLIENT_SECRET when graph_client.py renames it', async () => {
    const findings = await findingsAfter((dir) =>
      edit(dir, 'services/backend/src/services/agent_identity/graph_client.py', 'MICROSOFT_GRAPH_CLIENT_SECRET', 'MSGRAPH_CLIENT_SECRET'),
    );
    assertAtMentions(findings, 'drift-env', 'MICROSOFT_GRAPH_CLIENT_SECRET');
  });

  it('fails where it names the wiring script when the script is removed', async () => {
    const findings = await findingsAfter((dir) => rmSync(path.join(dir, 'scripts', 'fm_m365_wire_org.py')));
    assertAtMentions(findings, 'drift-path', 'fm_m365_wire_org.py');
  });

  it('fails where it uses --backend when the deploy script drops it', async () => {
    const findings = await findingsAfter((dir) => edit(dir, 'scripts/deploy-to-vps.sh', /--backend/g, '--api'));
    assertAtMentions(findings, 'drift-flag', '--backend');
  });

  it('fails where it names the container when compose renames it', async () => {
    const findings = await findingsAfter((dir) =>
      edit(dir, 'docker-compose.production.yml', 'container_name: curateme-backend-b2b', 'container_name: curateme-api-b2b'),
    );
    assertAtMentions(findings, 'drift-compose', 'curateme-backend-b2b');
  });

  it('fails where it quotes the RuntimeError when its text changes', async () => {
    const findings = await findingsAfter((dir) =>
      edit(dir, 'services/backend/src/services/agent_identity/graph_client.py', 'Microsoft Graph not configured. Missing env vars: ', 'Graph settings incomplete: '),
    );
    assertAtMentions(findings, 'drift-error-text', 'Microsoft Graph not configured');
  });

  it('fails where it names a step of the deploy script when the script renames it', async () => {
    const findings = await findingsAfter((dir) => edit(dir, 'scripts/deploy-to-vps.sh', 'Restoring VPS-local config files', 'Restoring local configuration'));
    assertAtMentions(findings, 'drift-step-name', 'Restoring VPS-local config files');
  });
});
