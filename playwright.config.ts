import { defineConfig, devices } from '@playwright/test';
import { CHROMIUM_CANDIDATES, findChromium } from './e2e/chromium.ts';

/** The system Chromium, from the one lookup (`npm test`'s pretest step has made sure there is one). */
const executablePath = findChromium() ?? CHROMIUM_CANDIDATES[0];

const chromium = {
  ...devices['Desktop Chrome'],
  launchOptions: {
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  },
};

/**
 * The e2e suite drives the sandbox's admin portal in the system Chromium (browser downloads are impossible here).
 * The sandbox's TLS key is pinned per worker by e2e/fixtures.ts (the `browser` fixture), never by ignoring errors.
 *
 * Traces and screenshots are kept: the specs that meet a secret value keep it out of them (rotation.spec.ts pauses
 * the trace while the portal shows a value and masks it in screenshots, then scans every artifact for every secret and
 * for the sandbox's credential, which the browser gives only to the sandbox's proxy: e2e/fixtures.ts).
 * portal.spec.ts reads values back on purpose (it checks the portal shows one exactly once), so it runs untraced.
 * Only `*.spec.ts` files are Playwright's: e2e/*.test.ts run under node's test runner.
 */
export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  timeout: 30_000,
  reporter: process.env.CI ? [['list'], ['junit', { outputFile: 'test-results/e2e-junit.xml' }]] : 'list',
  use: {
    headless: true,
    trace: 'on',
    screenshot: 'on',
    video: 'off',
  },
  projects: [
    {
      name: 'chromium',
      testIgnore: '**/portal.spec.ts',
      use: chromium,
    },
    {
      name: 'portal-values',
      testMatch: '**/portal.spec.ts',
      use: { ...chromium, trace: 'off', screenshot: 'off' },
    },
  ],
});
