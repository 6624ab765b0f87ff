import { controlRequest } from './client.ts';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createFetch } from '../common/net/tls.ts';
import { createIdentityComponent } from './identity/index.ts';
import { startSandbox } from './index.ts';
import type { SandboxComponent } from './types.ts';

const tempDir = () => mkdtempSync(join(tmpdir(), 'sandbox-lifecycle-'));

function recorder(name: string, events: string[], behaviour: { failStart?: boolean; failStop?: boolean } = {}): SandboxComponent {
  return {
    name,
    async start(context) {
      events.push(`start ${name} sees authority=${context.facts.authority ? 'yes' : 'no'}`);
      if (behaviour.failStart) throw new Error(`${name} cannot start`);
      return {
        facts: { [`${name}-fact`]: name },
        async stop() {
          events.push(`stop ${name}`);
          if (behaviour.failStop) throw new Error(`${name} cannot stop`);
        },
      };
    },
  };
}

describe('sandbox lifecycle', () => {
  test('starts components in order after identity, each seeing earlier facts; stops them in reverse, collecting errors', async () => {
    const dir = tempDir();
    const events: string[] = [];
    const sandbox = await startSandbox({
      dir,
      components: [createIdentityComponent(), recorder('a', events, { failStop: true }), recorder('b', events, { failStop: true })],
    });
    try {
      assert.deepEqual(events, ['start a sees authority=yes', 'start b sees authority=yes']);
      assert.equal(sandbox.facts['a-fact'], 'a');
      for (const key of ['authority', 'graph', 'portal', 'control', 'ca-file', 'tenant-id', 'client-id', 'app-object-id', 'mailbox', 'verified-sender', 'sandbox-dir']) {
        assert.ok(sandbox.facts[key], `fact ${key}`);
      }
      assert.equal(sandbox.facts.mailbox, 'family@curate-me.ai');
    } finally {
      await assert.rejects(sandbox.stop(), (error: AggregateError) => {
        assert.deepEqual(error.errors.map((e: Error) => e.message), ['sandbox component b failed to stop: b cannot stop', 'sandbox component a failed to stop: a cannot stop']);
        return true;
      });
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(events.slice(2), ['stop b', 'stop a']);
  });

  test('a component that fails to start stops the ones already started, and the listeners are gone', async () => {
    const dir = tempDir();
    const events: string[] = [];
    let authority = '';
    const spy: SandboxComponent = { name: 'spy', start: async (context) => ((authority = context.facts.authority ?? ''), { stop: async () => undefined }) };
    await assert.rejects(
      startSandbox({ dir, components: [createIdentityComponent(), spy, recorder('a', events), recorder('broken', events, { failStart: true })] }),
      /sandbox component broken failed to start: broken cannot start/,
    );
    assert.deepEqual(events, ['start a sees authority=yes', 'start broken sees authority=yes', 'stop a']);
    const caPem = readFileSync(join(dir, 'tls', 'ca.crt'), 'utf8');
    await assert.rejects(createFetch(caPem)(`${authority}/common/discovery/instance`), /fetch failed/);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the control API serves core routes and routes added by components', async () => {
    const dir = tempDir();
    const custom: SandboxComponent = {
      name: 'custom',
      async start(context) {
        context.addControlRoute(async ({ method, path, body }) =>
          method === 'POST' && path === '/_sandbox/custom/echo' ? { status: 200, body: { echoed: body } } : undefined,
        );
        return { stop: async () => undefined };
      },
    };
    const sandbox = await startSandbox({ dir, components: [createIdentityComponent(), custom] });
    try {
      const call = (method: string, path: string, body?: unknown) => controlRequest(sandbox.facts, method, path, body);
      assert.deepEqual(await (await call('POST', '/custom/echo', { x: 1 })).json(), { echoed: { x: 1 } });
      const before = sandbox.context.clock.now();
      const advanced = (await (await call('POST', '/clock/advance', { duration: '2d' })).json()) as { offsetMs: number };
      assert.ok(sandbox.context.clock.now() - before >= 2 * 86_400_000);
      assert.ok(advanced.offsetMs >= 2 * 86_400_000 - 1000);
      assert.equal((await call('POST', '/clock/advance', { duration: 'soon' })).status, 400);
      await call('POST', '/faults', { kind: 'graph', count: 2, status: 503 });
      assert.deepEqual(sandbox.context.faults.list(), [{ kind: 'graph', count: 2, params: { status: 503 } }]);
      await call('POST', '/clipboard', { text: 'hello' });
      assert.equal(await (await call('GET', '/clipboard')).text(), 'hello');
      // runbook.md's copy command: the bytes piped to curl as they are, as `pbcopy` takes its stdin.
      const copied = 'a~b"c\\d $e\n';
      // Not execFileSync: the sandbox answers from this process's event loop.
      const curl = spawn('curl', ['-fsS', '--cacert', sandbox.facts['ca-file']!, '-H', `@${sandbox.facts['credential-file']!}`, '-H', 'content-type: text/plain', '--data-binary', '@-', `${sandbox.facts.control}/clipboard`], { stdio: ['pipe', 'ignore', 'inherit'] });
      curl.stdin.end(copied);
      assert.deepEqual(await once(curl, 'close'), [0, null]);
      assert.equal(await (await call('GET', '/clipboard')).text(), copied);
      assert.equal((await call('GET', '/nope')).status, 404);
    } finally {
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the CA and the server certificate are reused across restarts in the same dir', async () => {
    const dir = tempDir();
    const first = await startSandbox({ dir, components: [createIdentityComponent()] });
    const ca = readFileSync(first.facts['ca-file'] as string, 'utf8');
    const spki = first.facts['tls-spki'];
    await first.stop();
    const second = await startSandbox({ dir, components: [createIdentityComponent()] });
    try {
      assert.equal(readFileSync(second.facts['ca-file'] as string, 'utf8'), ca);
      assert.equal(second.facts['tls-spki'], spki);
    } finally {
      await second.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
