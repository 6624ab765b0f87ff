import { mkdirSync, writeFileSync } from 'node:fs';
import AdmZip from 'adm-zip';
import { createCredential } from '../sandbox/credential.ts';
import { describeFinding, sandboxSecrets, scanForSecrets } from './leak-scan.ts';
import { expect, test } from '@playwright/test';

const secret = 'Xq8~Abc.def_GHI-jkl~MNO.pqr_STU-vwx~YZ12';

test('finds a secret however an artifact spells it: raw, base64 at any offset, URL-encoded, inside a zip', async ({}, testInfo) => {
  const file = (name: string, data: string | Buffer) => {
    const at = testInfo.outputPath(name);
    writeFileSync(at, data);
    return at;
  };
  const base64At = (offset: number) => Buffer.concat([Buffer.from('x'.repeat(offset)), Buffer.from(`"${secret}"`)]).toString('base64');
  const zip = new AdmZip();
  zip.addFile('resources/page.html', Buffer.from(`<td>${secret}</td>`.repeat(50)));
  const files = [
    file('raw.txt', `value=${secret}\n`),
    file('base64-0.txt', base64At(0)),
    file('base64-1.txt', base64At(1)),
    file('base64-2.txt', base64At(2)),
    file('url.txt', `?v=${new URLSearchParams({ v: secret }).toString().slice(2)}`),
    file('trace.zip', zip.toBuffer()),
    file('hint-only.txt', `${secret.slice(0, 3)}*****************`),
  ];
  const found = scanForSecrets(files, [secret]);
  const where = new Set(found.map((finding) => `${finding.file.split('/').pop()}${finding.entry ? `!${finding.entry}` : ''}`));
  expect([...where].sort()).toEqual(['base64-0.txt', 'base64-1.txt', 'base64-2.txt', 'raw.txt', 'trace.zip!resources/page.html', 'url.txt']);
  // A finding names where and how, never the value.
  for (const finding of found) expect(describeFinding(finding)).not.toContain(secret);
});

test('finds the sandbox credential in an artifact the way a trace records it: a cookie, a bearer header, a proxy login', async ({}, testInfo) => {
  mkdirSync(testInfo.outputPath('sandbox'), { recursive: true });
  const credential = createCredential(testInfo.outputPath('sandbox'));
  const secrets = sandboxSecrets({ 'credential-file': credential.path }, { knownSecretValues: () => [secret] });
  expect(secrets).toEqual([credential.token, secret]);
  const trace = (name: string, network: string) => {
    const zip = new AdmZip();
    zip.addFile('trace.network', Buffer.from(network));
    const at = testInfo.outputPath(`${name}.zip`);
    writeFileSync(at, zip.toBuffer());
    return at;
  };
  // Playwright's network log: a request's cookies and headers, as recorded.
  const cookie = trace('cookie', JSON.stringify({ request: { cookies: [{ name: 'runbook-sandbox', value: credential.token }] } }));
  const header = trace('header', JSON.stringify({ request: { headers: [{ name: 'authorization', value: `Bearer ${credential.token}` }] } }));
  const proxyLogin = trace('proxy-login', `Proxy-Authorization: Basic ${Buffer.from(`runbook:${credential.token}`).toString('base64')}`);
  const clean = trace('clean', JSON.stringify({ request: { headers: [{ name: 'accept', value: 'text/html' }] } }));
  const found = scanForSecrets([cookie, header, proxyLogin, clean], secrets);
  expect([...new Set(found.map((finding) => finding.file))].sort()).toEqual([cookie, header, proxyLogin].sort());
  for (const finding of found) expect(describeFinding(finding)).not.toContain(credential.token);
});
