import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from '../testing.ts';
import { runbookMentions } from './index.ts';
import { pathClaim } from './mentions.ts';
import type { MentionKind } from './types.ts';

/** `kind text@line:col` for every mention of the given kind, in document order. */
function mentions(markdown: string, kind: MentionKind): string[] {
  return runbookMentions(parse(markdown))
    .filter((mention) => mention.kind === kind)
    .map((mention) => `${mention.kind === 'flag' ? `${mention.script} ` : ''}${mention.text}@${mention.span.start.line}:${mention.span.start.column}`);
}

describe('environment variable heuristic', () => {
  it('takes UPPER_CASE names of two or more parts in prose, inline code and code', () => {
    const doc = 'Set MICROSOFT_GRAPH_CLIENT_SECRET and `M365_WEBHOOK_CLIENT_STATE`.\n\n```bash\ngrep -c "^MICROSOFT_GRAPH_TENANT_ID=" .env && echo ${SMTP_HOST} $AWS_SES_REGION\n```\n';
    assert.deepEqual(mentions(doc, 'env'), [
      'MICROSOFT_GRAPH_CLIENT_SECRET@1:5',
      'M365_WEBHOOK_CLIENT_STATE@1:40',
      'MICROSOFT_GRAPH_TENANT_ID@4:11',
      'SMTP_HOST@4:54',
      'AWS_SES_REGION@4:66',
    ]);
  });

  it('takes a prefix with a wildcard, even of one part', () => {
    assert.deepEqual(mentions('It needs `MICROSOFT_GRAPH_*` and M365_*.\n', 'env'), ['MICROSOFT_GRAPH_*@1:11', 'M365_*@1:34']);
  });

  it('ignores single words, error codes, calls, attributes, and mixed case', () => {
    const doc = 'PATH, SEV2, AADSTS7000215, `MAX_RETRIES()`, `Config.MAX_SIZE`, `FOO_Bar`, snake_case_name.\n';
    assert.deepEqual(mentions(doc, 'env'), []);
  });

  it('reads env vars from process.env and from string literals in ts blocks, not from identifiers', () => {
    const doc = "```ts step\nconst GRAPH_SECRET_FILE = process.env.GRAPH_SECRET_FILE_PATH;\nawait $`grep -c '^MICROSOFT_GRAPH_CLIENT_ID=' x`;\n```\n";
    assert.deepEqual(mentions(doc, 'env'), ['MICROSOFT_GRAPH_CLIENT_ID@3:19']);
  });
});

describe('path heuristic', () => {
  it('claims repo-relative paths, bare source files and directories', () => {
    for (const word of ['services/backend/src/x.py', './scripts/deploy-to-vps.sh', 'docker-compose.production.yml', 'services/backend/', 'graph_client.py'])
      assert.ok(pathClaim(word), word);
  });
  it('does not claim prose slashes, hosts, globs, placeholders, env files or notes', () => {
    for (const word of ['and/or', '401/invalid_client', 'login.microsoftonline.com/x/token.json', 'services/backend/scripts/*', '.env.production', 'notes.txt', 'curate-me.ai', '$HOME/x.py', '--env-file'])
      assert.equal(pathClaim(word), undefined, word);
  });
  it('keeps host paths for the rule to map onto the repo checkout', () => {
    assert.deepEqual(pathClaim('~/platform/scripts/fm_m365_wire_org.py'), { kind: 'absolute', text: '~/platform/scripts/fm_m365_wire_org.py' });
  });
  it('finds paths in prose and code but not in URLs', () => {
    const doc = 'See `scripts/deploy-to-vps.sh` and https://example.com/scripts/other.sh.\n';
    assert.deepEqual(mentions(doc, 'path'), ['scripts/deploy-to-vps.sh@1:6']);
  });
});

describe('symbol heuristic', () => {
  it('takes Class.method and snake_case calls, skipping calls on objects', () => {
    const doc = 'Call `GraphConfig.from_env()`, ProvisioningService.ensure_inbound_subscription, `_get_access_token()` and send_email().\n\n```bash\npython - <<PY\nenv.write_text(x); print(read_it())\nPY\n```\n';
    assert.deepEqual(mentions(doc, 'method'), ['GraphConfig.from_env()@1:7', 'ProvisioningService.ensure_inbound_subscription@1:32']);
    assert.deepEqual(mentions(doc, 'function'), ['_get_access_token()@1:82', 'send_email()@1:107', 'read_it()@5:26']);
  });
  it('ignores product names and names the runbook defines itself', () => {
    const doc = 'Node.js and Next.js are fine.\n\n```bash\npython - <<PY\ndef local_helper():\n    pass\nlocal_helper()\nPY\n```\n';
    assert.deepEqual([...mentions(doc, 'method'), ...mentions(doc, 'function')], []);
  });
});

describe('flag association', () => {
  it('gives each flag to the script of its own command', () => {
    const doc = '```bash\n./scripts/deploy-to-vps.sh --backend && docker compose up -d --force-recreate\npython /tmp/fm_m365_wire_org.py --org o \\\n  --mailbox m\n```\n';
    assert.deepEqual(mentions(doc, 'flag'), ['deploy-to-vps.sh --backend@2:28', 'fm_m365_wire_org.py --org@3:33', 'fm_m365_wire_org.py --mailbox@4:3']);
  });
  it('pairs a flag with a script named later on the same prose line', () => {
    assert.deepEqual(mentions('Use `--backend` of `deploy-to-vps.sh`.\n', 'flag'), ['deploy-to-vps.sh --backend@1:6']);
  });
  it('leaves flags with no script alone', () => {
    assert.deepEqual(mentions('```bash\ndocker compose --env-file .env up -d\n```\n', 'flag'), []);
  });
});

describe('error text heuristic', () => {
  it('takes quoted messages and ellipsis-ended ones after an Error class', () => {
    const doc = 'It raises RuntimeError: Microsoft Graph not configured. Missing env vars: ... when blank.\n\nOr `ValueError("bad tenant id given")`, or it raises "token cache is corrupt".\n';
    assert.deepEqual(mentions(doc, 'error-text'), [
      'Microsoft Graph not configured. Missing env vars:@1:25',
      'bad tenant id given@3:17',
      'token cache is corrupt@3:55',
    ]);
  });
  it('does not guess where an unquoted prose message ends', () => {
    assert.deepEqual(mentions('It raises RuntimeError: something went wrong when blank.\n', 'error-text'), []);
  });
});

describe('step names', () => {
  it('takes a quoted name followed by "step"', () => {
    assert.deepEqual(mentions('It keeps a backup (its "Restoring VPS-local config files" step) first.\n', 'step-name'), [
      'Restoring VPS-local config files@1:25',
    ]);
  });
  it('leaves other quotes alone', () => {
    assert.deepEqual(mentions('Click "Certificates & secrets" then step back.\n', 'step-name'), []);
    assert.deepEqual(mentions('Say "hello" to the next step.\n', 'step-name'), []);
  });
});

describe('flags in inline commands', () => {
  it('keeps a flag of an inline command away from a script named elsewhere on the line', () => {
    assert.deepEqual(mentions('`scripts/deploy-to-vps.sh` runs `git reset --hard origin/main` first.\n', 'flag'), []);
  });
  it('still pairs a script and its flag inside one inline command', () => {
    assert.deepEqual(mentions('Run `./scripts/deploy-to-vps.sh --backend` now.\n', 'flag'), ['deploy-to-vps.sh --backend@1:33']);
  });
});

describe('secret labels', () => {
  it('does not take redaction labels for env vars', () => {
    const doc = "```ts step\nconst value = await secrets.read(file, 'NEW_GRAPH_SECRET')\nconsole.log(process.env.REAL_ENV_NAME)\n```\n\nIt shows [secret:NEW_GRAPH_SECRET].\n";
    assert.deepEqual(mentions(doc, 'env'), []);
  });
});
