import { test as base, type Browser } from '@playwright/test';
import { readCredential } from '../sandbox/credential.ts';
import { createIdentityComponent } from '../sandbox/identity/index.ts';
import type { SandboxHandle } from '../sandbox/index.ts';
import { startTempSandbox } from '../sandbox/test/helpers.ts';

export interface SandboxWorkerOptions {
  /** `all` (default) starts the whole sandbox; `identity` only the Microsoft side (authority, Graph, portal). */
  sandboxComponents: 'all' | 'identity';
}

export interface SandboxWorkerFixtures {
  sandbox: SandboxHandle;
}

/**
 * One sandbox per worker (starting it per test would dominate the run), in its own temp dir. The worker's browser
 * pins the sandbox's TLS key (`--ignore-certificate-errors-spki-list`): Chromium on Linux takes extra trust anchors
 * only from an NSS database, so the sandbox's exact key is trusted by configuration instead of its CA file.
 */
export const test = base.extend<object, SandboxWorkerOptions & SandboxWorkerFixtures>({
  sandboxComponents: ['all', { scope: 'worker', option: true }],
  sandbox: [
    async ({ sandboxComponents }, use) => {
      const sandbox = await startTempSandbox(sandboxComponents === 'identity' ? { components: [createIdentityComponent()] } : {}, 'sandbox-e2e-');
      try {
        await use(sandbox);
      } finally {
        await sandbox.stop();
      }
    },
    { scope: 'worker' },
  ],
  // The portal answers only a browser that proves the sandbox's credential (read from its mode 600 file). It proves it
  // to the sandbox's browser proxy, as the proxy password, below the pages: a cookie or header would be recorded in
  // every trace's network log (and `addCookies` in its action log), the proxy's authentication is in neither.
  proxy: async ({ sandbox }, use) => {
    await use({ server: sandbox.facts['browser-proxy']!, username: 'runbook', password: readCredential(sandbox.facts['credential-file']!) });
  },
  browser: [
    async ({ playwright, sandbox, launchOptions }, use) => {
      const spki = sandbox.facts['tls-spki'];
      const browser: Browser = await playwright.chromium.launch({
        ...launchOptions,
        args: [...(launchOptions.args ?? []), ...(spki ? [`--ignore-certificate-errors-spki-list=${spki}`] : [])],
      });
      try {
        await use(browser);
      } finally {
        await browser.close();
      }
    },
    { scope: 'worker' },
  ],
});

export { expect } from '@playwright/test';
