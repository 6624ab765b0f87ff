import { writeFileSync } from 'node:fs';
import AdmZip from 'adm-zip';
import { describeFinding, scanForSecrets } from './leak-scan.ts';
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
