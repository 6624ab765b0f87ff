/**
 * Nobody else gets in: every control, portal and container-runtime endpoint of a sandbox requires its credential,
 * which lives in a mode 600 file; a process of another local user (uid nobody) reads neither the file nor any
 * answer, and the clients given the credential by configuration work.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { controlRequest } from './client.ts';
import { readCredential } from './credential.ts';
import { startTestSandbox, type TestSandbox } from './platform/testing.ts';

/** Asks each URL without credentials (as a hostile neighbour would: TLS not verified) and prints `STATUS URL` lines. */
const PROBE = `
const https = require('node:https');
const fs = require('node:fs');
const [file, ...urls] = process.argv.slice(1);
let read = 'read';
try { fs.readFileSync(file); } catch (error) { read = error.code; }
console.log('credential-file ' + read);
(async () => {
  for (const spec of urls) {
    const [method, url] = spec.split(' ');
    const status = await new Promise((resolve) => {
      const request = https.request(url, { method, rejectUnauthorized: false }, (response) => { response.resume(); resolve(response.statusCode); });
      request.on('error', (error) => resolve(error.code));
      request.end(method === 'POST' ? '{}' : undefined);
    });
    console.log(status + ' ' + spec);
  }
})();
`;

function probe(args: string[], asNobody: boolean): Promise<string> {
  const node = [process.execPath, '-e', PROBE, ...args];
  const [command, ...rest] = asNobody ? ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', ...node] : node;
  return new Promise((resolve, reject) => {
    execFile(command!, rest, { cwd: '/', timeout: 20_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)));
  });
}

describe('the sandbox credential', () => {
  let t: TestSandbox;
  let endpoints: string[];
  before(async () => {
    t = await startTestSandbox({ startContainers: true });
    const daemon = t.facts['docker-control']!;
    endpoints = [
      `GET ${t.facts.control}/clipboard`,
      `GET ${t.facts.control}/facts`,
      `POST ${t.facts.control}/admin-token`,
      `GET ${t.facts.control}/tenant/credentials`,
      `POST ${t.facts.control}/faults`,
      `GET ${t.facts.portal}/`,
      `GET ${t.facts.portal}/apps/${t.facts['app-object-id']}/credentials?tab=secrets`,
      `GET ${daemon}/containers`,
      `GET ${daemon}/containers/curateme-backend-b2b`,
      `POST ${daemon}/faults/take`,
      `GET ${daemon}/clock`,
      `GET ${t.platform.backendUrl('backend-b2b')}/admin/approvals`,
      `POST ${t.platform.backendUrl('backend-b2b')}/admin/send-test-mail`,
    ];
  });
  after(async () => t?.stop());

  /** CONNECT through the browser proxy to `target`, with `password` as the proxy password when given. */
  const tunnel = (target: string, password?: string) => new Promise<{ status: number; socket: Socket }>((resolve, reject) => {
    const proxy = new URL(t.facts['browser-proxy']!);
    const headers = password === undefined ? {} : { 'proxy-authorization': `Basic ${Buffer.from(`sandbox:${password}`).toString('base64')}` };
    httpRequest({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: target, headers })
      .on('connect', (response, socket) => resolve({ status: response.statusCode!, socket }))
      .on('error', reject)
      .end();
  });

  test('the browser proxy opens a tunnel only with the credential as its password, and only to the portal', async () => {
    const portal = new URL(t.facts.portal!).host;
    for (const [target, password, status] of [
      [portal, undefined, 407],
      [portal, 'not-the-credential', 407],
      [new URL(t.facts.authority!).host, readCredential(t.facts['credential-file']!), 403],
      [new URL(t.facts['docker-control']!).host, readCredential(t.facts['credential-file']!), 403],
    ] as const) {
      const { status: got, socket } = await tunnel(target, password);
      socket.destroy();
      assert.equal(got, status, `${target} ${password === undefined ? 'no password' : 'a password'}`);
    }
  });

  test('through an authenticated tunnel the portal answers requests that carry no credential at all', async () => {
    const { status, socket } = await tunnel(new URL(t.facts.portal!).host, readCredential(t.facts['credential-file']!));
    assert.equal(status, 200);
    const tls = tlsConnect({ socket, servername: 'localhost', ca: readFileSync(t.facts['ca-file']!, 'utf8') });
    await new Promise<void>((resolve, reject) => tls.once('secureConnect', resolve).once('error', reject));
    tls.write('GET /_sandbox/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    let reply = '';
    for await (const chunk of tls) reply += String(chunk);
    assert.match(reply, /^HTTP\/1\.1 200 /);
  });

  test('is a mode 600 file in a mode 700 folder, published as the credential-file fact', () => {
    const file = t.facts['credential-file']!;
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(t.facts['sandbox-dir']!).mode & 0o777, 0o700);
  });

  test('every control, portal and docker-daemon endpoint answers 401 without it', async () => {
    const lines = (await probe([t.facts['credential-file']!, ...endpoints], false)).trim().split('\n');
    assert.equal(lines.length, endpoints.length + 1);
    for (const line of lines.slice(1)) assert.match(line, /^401 /, line);
  });

  test('the docker daemon is https: nothing answers in plain http', async () => {
    const daemon = new URL(t.facts['docker-control']!);
    assert.equal(daemon.protocol, 'https:');
    const plain = await fetch(`http://${daemon.host}/containers`).then((response) => response.status, (error: Error) => error.name);
    assert.notEqual(plain, 200);
  });

  test('another local user (uid nobody) cannot read it and gets nothing from any endpoint', { skip: process.getuid?.() !== 0 || !existsSync('/usr/bin/setpriv') ? 'needs root and setpriv to run a probe as nobody' : false }, async () => {
    const lines = (await probe([t.facts['credential-file']!, ...endpoints], true)).trim().split('\n');
    assert.equal(lines[0], 'credential-file EACCES');
    for (const line of lines.slice(1)) assert.match(line, /^40[13] /, line);
  });

  test('clients given it by configuration get through: the control client, the VPS docker over ssh', async () => {
    const response = await controlRequest(t.facts, 'GET', '/facts');
    assert.equal(response.status, 200);
    await response.body?.cancel();
    const ps = await t.ssh("docker ps --filter name=curateme-backend-b2b --format '{{.Names}}'");
    assert.equal(ps.code, 0, ps.stderr);
    assert.equal(ps.stdout.trim(), 'curateme-backend-b2b');
  });

  test('a wrong credential is refused like none', async () => {
    const response = await t.fetch(`${t.facts.control}/clipboard`, { headers: { authorization: 'Bearer not-the-credential' } });
    assert.equal(response.status, 401);
    await response.body?.cancel();
  });

  test('DELETE /clipboard lets go of what the clipboard held', async () => {
    assert.equal((await controlRequest(t.facts, 'POST', '/clipboard', { text: 'copied-secret-value' })).status, 204);
    assert.equal(await (await controlRequest(t.facts, 'GET', '/clipboard')).text(), 'copied-secret-value');
    assert.equal((await controlRequest(t.facts, 'DELETE', '/clipboard')).status, 204);
    assert.equal(await (await controlRequest(t.facts, 'GET', '/clipboard')).text(), '');
  });
});
