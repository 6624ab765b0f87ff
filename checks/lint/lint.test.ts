import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatted, parse, parseFixture } from '../testing.ts';
import { lintRunbook } from './index.ts';

const FRONT = `---
title: T
owner: Platform Team
backup-owner: On-call
last-validated: 2026-06-14
validation-method: sandbox replay
severity: SEV3
time-to-complete: 15m
related-services: [backend-b2b]
---
`;
/** Front matter is 10 lines; a body line N is document line N + 10. */
const lint = (body: string, front = FRONT) => formatted(lintRunbook(parse(front + body)));
const only = (rule: string, findings: string[]) => findings.filter((line) => line.endsWith(`[${rule}]`));

describe('no-secret-output', () => {
  it('flags a secret variable echoed in a bash block', () => {
    assert.deepEqual(lint('```bash\necho "$MICROSOFT_GRAPH_CLIENT_SECRET"\n```\n'), [
      'runbook.md:12:7-12:37: Unexpected secret `$MICROSOFT_GRAPH_CLIENT_SECRET` printed by `echo`, expected it written to a file or piped, never printed [no-secret-output]',
    ]);
  });

  it('allows echo into a pipe or a file', () => {
    assert.deepEqual(lint('```bash\necho "$SECRET" | docker login --password-stdin\nprintf %s "$SECRET" > /tmp/s\n```\n'), []);
  });

  it('tracks a secret by where it came from, not by its name: printed, on a command line, returned', () => {
    const body = [
      '## S', '', '```ts step', "const value = await secrets.read('key.txt', 'KEY')", 'const trimmed = value.trim()',
      'console.log(trimmed)', 'console.log(value.length, trimmed === value)', 'await $`curl -d secret=${trimmed} https://x`',
      "const clientSecret = 'not a secret'", 'console.log(clientSecret)', 'return `k=${value}`', '```', '',
      '```ts verify', 'expect(1).toBe(1)', '```', '',
    ].join('\n');
    assert.deepEqual(only('secret-flow', lint(body)), [
      'runbook.md:16:13-16:20: Unexpected secret printed by `console.log`, expected its length or a digest, never the value [secret-flow]',
      'runbook.md:18:26-18:33: Unexpected secret on a command line, expected it passed through a file or stdin (`secrets.toCommand`) [secret-flow]',
      'runbook.md:21:8-21:20: Unexpected secret as the step’s return value (journaled and reported), expected a value that is not the secret [secret-flow]',
    ]);
  });

  it('follows a secret through state and setup helpers into another block', () => {
    const body = [
      '```ts setup', 'const onHost = (script: string) => $`ssh host ${script}`', "const pasted = () => secrets.fromCommand('pbpaste', 'NEW')", '```', '',
      '## A', '', '```ts step', 'state.fresh = await pasted()', '```', '', '```ts verify', 'expect(1).toBe(1)', '```', '',
      '## B', '', '```ts step', 'await onHost(`echo ${state.fresh}`)', "console.info('ok', state.fresh.length)", '```', '',
      '```ts verify', 'expect(1).toBe(1)', '```', '',
    ].join('\n');
    assert.deepEqual(only('secret-flow', lint(body)), [
      'runbook.md:29:14-29:35: Unexpected secret on a command line (through `onHost`), expected it passed through a file or stdin (`secrets.toCommand`) [secret-flow]',
    ]);
  });

  it('follows a secret through functions: the document\'s own by what they return, others\' as carrying it', () => {
    const body = [
      '```ts setup', 'const basicAuth = (user: string, password: string) => `${user}:${password}`', 'function fingerprint(value: string) {',
      "  return createHash('sha256').update(value).digest('hex').slice(0, 12)", '}', '```', '',
      '## A', '', '```ts step', "const key = await secrets.read('key.txt', 'KEY')", "console.log(basicAuth('me', key))",
      'console.log(fingerprint(key), Buffer.byteLength(key))', 'console.log(encodeBase64(key))', "const client = new Client({ auth: { key } })",
      'console.log(client)', 'const response = await fetch(url, { body: key })', 'console.log(response.status)', '```', '',
      '```ts verify', 'expect(1).toBe(1)', '```', '',
    ].join('\n');
    assert.deepEqual(only('secret-flow', lint(body)), [
      'runbook.md:22:13-22:33: Unexpected secret printed by `console.log`, expected its length or a digest, never the value [secret-flow]',
      'runbook.md:24:13-24:30: Unexpected secret printed by `console.log`, expected its length or a digest, never the value [secret-flow]',
      'runbook.md:26:13-26:19: Unexpected secret printed by `console.log`, expected its length or a digest, never the value [secret-flow]',
    ]);
  });

  it('flags cat of a secret file, but not its byte count', () => {
    const body = '```bash\ncat ~/Documents/fm-dogfood/m365_graph_secret.txt\nwc -c < ~/Documents/fm-dogfood/m365_graph_secret.txt\n```\n';
    assert.deepEqual(lint(body), [
      'runbook.md:12:5-12:49: Unexpected `cat` of secret file `~/Documents/fm-dogfood/m365_graph_secret.txt`, expected its size or checksum (`wc -c <`), never its contents [no-secret-output]',
    ]);
  });

  it('flags a secret expanded locally into ssh\'s argv, and echoed remotely', () => {
    const findings = lint('```bash\nssh vps "echo $GRAPH_TOKEN"\n```\n');
    assert.deepEqual(findings.map((line) => line.replace(/^.*(command line of `ssh`|printed by `echo`).*$/, '$1')), ['command line of `ssh`', 'printed by `echo`']);
  });

  it('sees a secret echoed inside an ssh remote command', () => {
    const findings = lint("```bash\nssh vps 'cd ~/platform && echo $GRAPH_TOKEN'\n```\n");
    assert.deepEqual(findings, ['runbook.md:12:32-12:44: Unexpected secret `$GRAPH_TOKEN` printed by `echo`, expected it written to a file or piped, never printed [no-secret-output]']);
  });

  it('flags grep that prints a secret line of an env file, not grep -c', () => {
    const body = "```bash\ngrep '^MICROSOFT_GRAPH_CLIENT_SECRET=' .env.production\ngrep -c '^MICROSOFT_GRAPH_CLIENT_SECRET=' .env.production\n```\n";
    assert.deepEqual(only('no-secret-output', lint(body)).map((line) => line.split(': ')[0]), ['runbook.md:12:6-12:39']);
  });

  it('flags print of a secret in a python heredoc', () => {
    const body = '```bash\npython3 - <<"PY"\nsecret = read()\nprint(f"value={secret}")\nPY\n```\n';
    assert.deepEqual(only('no-secret-output', lint(body)).map((line) => line.split(': ')[0]), ['runbook.md:14:16-14:22']);
  });
});

describe('mutating-step-verify and step-rollback', () => {
  const step = (info: string, code: string, after = '') => `## Do it\n\n\`\`\`ts ${info}\n${code}\n\`\`\`\n${after}`;
  const verify = '\n```ts verify\nexpect(1).toBe(1);\n```\n';
  const rollback = '\n```ts rollback\nawait $`ssh vps "cp a.bak a"`;\n```\n';

  it('flags a step that runs ssh cp with no verify and no rollback', () => {
    assert.deepEqual(lint(step('step', 'await $`ssh vps "cp .env .env.bak"`;')), [
      'runbook.md:13:1-13:11: Unexpected mutating step `do-it` (it runs `cp`) with no verify, expected a `ts verify` block after it [mutating-step-verify]',
      'runbook.md:13:1-13:11: warning: Unexpected mutating step `do-it` (it runs `cp`) with no rollback, expected a `ts rollback` block or `rollback=none reason="..."` [step-rollback]',
    ]);
  });

  it('accepts a mutating step with a verify and a rollback', () => {
    assert.deepEqual(lint(step('step', 'await $`docker compose up -d --force-recreate backend-b2b`;', verify + rollback)), []);
  });

  it('accepts rollback=none with a reason', () => {
    assert.deepEqual(lint(step('step rollback=none reason="a new secret cannot be un-created"', 'await graph.api(url).post(body);', verify)), []);
  });

  it('treats manual and confirm steps as mutating', () => {
    const findings = lint(step('step manual', 'await clipboard.read();'));
    assert.deepEqual(findings.map((line) => line.replace(/^.*\[(.+)\]$/, '$1')), ['mutating-step-verify', 'step-rollback']);
    assert.match(findings[0]!, /it is `manual` \(an operator action\)/);
  });

  it('treats file writes and Graph writes as mutating', () => {
    assert.equal(only('mutating-step-verify', lint(step('step', "await writeFile(path, data, { mode: 0o600 });"))).length, 1);
    assert.equal(only('mutating-step-verify', lint(step('step', "await client.api('/applications/x/removePassword').post({ keyId });"))).length, 1);
  });

  it('does not flag a read-only step', () => {
    assert.deepEqual(lint(step('step', 'const { stdout } = await $`ssh vps "docker ps --format {{.Names}}"`;\nreturn stdout;')), []);
  });

  it('flags a rollback block together with rollback=none', () => {
    assert.deepEqual(only('step-rollback', lint(step('step rollback=none reason="x"', 'await $`rm -f /tmp/x`;', verify + rollback))), [
      'runbook.md:13:12-13:25: Unexpected `rollback=none` on step `do-it` that has a rollback block (line 21), expected one of them [step-rollback]',
    ]);
  });
});

describe('front-matter-required', () => {
  it('lists every missing key at the front matter', () => {
    assert.deepEqual(lint('# T\n', '---\ntitle: T\nowner: me\n---\n'), [
      'runbook.md:1:1-1:4: Unexpected front matter without `backup-owner`, `last-validated`, `validation-method`, `severity`, `time-to-complete`, `related-services`, expected every required key [front-matter-required]',
    ]);
  });

  it('flags a document with no front matter at its first line', () => {
    assert.match(lint('# T\n', '')[0]!, /^runbook\.md:1:1: Unexpected front matter without `title`, .*\[front-matter-required\]$/);
  });

  it('flags an empty required value at its key', () => {
    assert.deepEqual(lint('# T\n', FRONT.replace('owner: Platform Team', 'owner:')), ['runbook.md:3:1-3:6: Unexpected empty `owner`, expected a value [front-matter-required]']);
  });
});

describe('parser findings', () => {
  it('reports unknown roles and attributes, duplicate ids and orphan blocks under their own ids', () => {
    const body = '```ts verify\nexpect(1).toBe(1);\n```\n\n## A\n\n```ts step id=x colour=red\nreturn 1;\n```\n\n```ts stepp\nreturn 2;\n```\n\n## B\n\n```ts step id=x\nreturn 3;\n```\n';
    assert.deepEqual(lint(body).map((line) => line.replace(/^runbook\.md:(\d+:\d+)\S*: .*\[(.+)\]$/, '$1 $2')), [
      '11:1 orphan-block',
      '17:17 unknown-attribute',
      '21:7 unknown-role',
      '27:12 duplicate-id',
    ]);
  });
});

describe('the drift sample runbook', () => {
  it('is lint-clean', () => {
    assert.deepEqual(formatted(lintRunbook(parseFixture())), []);
  });
});

describe('no-secret-output reads how a secret-named value is used', () => {
  it('does not flag properties of it, or tests of it, as printing it', () => {
    const body = "```bash\npython3 - <<PY\nPY\n```\n\n## S\n\n```ts step\nfor (const credential of list) console.log(`${credential.displayName} expires`)\nconsole.log('token', token?.accessToken ? 'ok' : 'FAIL', !secret)\n```\n";
    assert.deepEqual(only('no-secret-output', lint(body)), []);
  });
});

describe('authoring mistakes', () => {
  it('reports a block that does not parse on its own at the user\'s line', () => {
    assert.deepEqual(only('block-syntax', lint('## S\n\n```ts step\nif (ready) {\n  go()\n```\n\n```ts verify\n}\n```\n')), [
      "runbook.md:15:6-15:7: Unexpected syntax in `ts step` block: '}' expected. [block-syntax]",
      'runbook.md:19:1-19:2: Unexpected syntax in `ts verify` block: Declaration or statement expected. [block-syntax]',
    ]);
  });

  it('flags retries on a step with an effect and no rollback, not on a read-only one or one that is undone', () => {
    const body = '## A\n\n```ts step retries=2\nawait $`rm -rf /tmp/cache`\n```\n\n## B\n\n```ts step retries=2 rollback=none reason="read-only"\nawait $`ls /tmp`\n```\n\n## C\n\n```bash step retries=1\nrm -rf /tmp/other\n```\n\n```bash rollback\ntrue\n```\n';
    assert.deepEqual(only('retries-effect', lint(body)), [
      'runbook.md:13:12-13:21: Unexpected `retries` on step `a`, which runs `rm` and has no rollback to undo a failed attempt, expected a `rollback` block or no retries [retries-effect]',
    ]);
  });
});

