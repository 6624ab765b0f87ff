/**
 * `validate` and `check --replay` work on any runbook whose target names a sandbox of its own: a command that starts a
 * stand-in and prints its facts. Here, a key-value service's runbook, validated on a small server of its own.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { validateRunbook } from '../validate.ts';
import { collector, fence, writeRunbook } from './helpers.ts';

// The stand-in: an HTTP key-value store on a free loopback port; its facts are its URL and its pid.
const server = `import http from 'node:http';
const store = new Map();
const s = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d)).on('end', () => {
    if (req.method === 'PUT') store.set(req.url, body);
    res.end(store.get(req.url) ?? '');
  });
});
s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: 'http://127.0.0.1:' + s.address().port, pid: process.pid })));
`;

const runbook = `---
title: Rotate the cache key
owner: me
last-validated: 2020-01-01
validation-method: by hand
targets:
  prod:
    store: https://kv.example.internal
  staging-box:
    sandbox:
      command: node kv-sandbox.mjs
    store: "{{sandbox.url}}"
    pid: "{{sandbox.pid}}"
default-target: prod
---
# Write the new key

${fence}ts step
await fetch(\`\${target.get('store')}/cache-key\`, { method: 'PUT', body: 'v2' })
${fence}

${fence}bash verify
test "$(curl -fsS "$TARGET_STORE/cache-key")" = v2
${fence}

${fence}ts rollback
await fetch(\`\${target.get('store')}/cache-key\`, { method: 'PUT', body: 'v1' })
${fence}
`;

describe('a target with a sandbox of its own', () => {
  it('is validated on it, stamped, and its sandbox stopped with the run', async () => {
    const file = await writeRunbook(runbook);
    writeFileSync(path.join(path.dirname(file), 'kv-sandbox.mjs'), server);
    const { run, stamped } = await validateRunbook({ file, reporters: [collector()] }, new Date('2026-12-01T10:00:00Z'));
    assert.equal(run.exitCode, 0);
    assert.equal(run.target.name, 'staging-box');
    assert.ok(stamped);
    assert.match(readFileSync(file, 'utf8'), /^last-validated: 2026-12-01$/m);
    // Stopped with the run: its port no longer answers (its pid may linger as a zombie where nothing reaps it).
    await assert.rejects(fetch(`${run.target.get('store')}/cache-key`), 'the sandbox command is stopped when the run ends');
  });

  it('is refused with its own words when the command prints no facts', async () => {
    const file = await writeRunbook(runbook.replace('node kv-sandbox.mjs', 'echo starting; echo oops >&2; exit 3'));
    await assert.rejects(validateRunbook({ file, reporters: [collector()] }), /sandbox command .* exited \(code 3\) before printing its facts: oops/);
  });
});
