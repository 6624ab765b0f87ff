/**
 * Trust is per CA, even though the TLS context of a CA is built once and shared (common/net/tls.ts): a fetch that
 * trusts one sandbox's CA is refused by a server of another, before and after the first context was cached.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { createFetch } from '../common/net/tls.ts';
import { issueServerCert, loadOrCreateCa, type LocalCa } from './tls.ts';

let caA: LocalCa;
let caB: LocalCa;
let server: Server;
let url: string;

before(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'runbook-tls-'));
  caA = loadOrCreateCa(path.join(dir, 'a'));
  caB = loadOrCreateCa(path.join(dir, 'b'));
  const cert = issueServerCert(caA, ['localhost', '127.0.0.1']);
  server = createServer({ cert: cert.certPem, key: cert.keyPem }, (_request, response) => response.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://localhost:${(server.address() as AddressInfo).port}/`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const refusal = (error: Error): boolean => {
  assert.match(String((error.cause as { code?: string } | undefined)?.code), /UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
  return true;
};

test('a server is trusted only by fetches given its own CA, whichever context was built first', async () => {
  await assert.rejects(createFetch(caB.certPem)(url), refusal);
  assert.equal(await (await createFetch(caA.certPem)(url)).text(), 'ok');
  // Both contexts are cached now: a fresh fetch of each CA decides as the first did.
  assert.equal(await (await createFetch(caA.certPem)(url)).text(), 'ok');
  await assert.rejects(createFetch(caB.certPem)(url), refusal);
  // And without any CA, only the default roots: refused.
  await assert.rejects(createFetch()(url), refusal);
});
