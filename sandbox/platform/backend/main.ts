/**
 * The backend stand-in (containers curateme-backend-b2b and curateme-backend-gateway): what the runbook observes of
 * the real FastAPI service. Started by the sandbox's container runtime with the env of .env.production.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { serve } from '@hono/node-server';
import { readCredential } from '../../credential.ts';
import { createApp } from './app.ts';
import { startClock, takeFault } from './clock.ts';
import { GraphNotConfigured, graphConfigFromEnv, pythonTraceback, type GraphConfig } from './config.ts';
import { openDb } from './db.ts';
import { GraphClient } from './graph.ts';
import { log } from './log.ts';
import { RENEWAL_INTERVAL_MS, lapseAll, renewAll } from './subscriptions.ts';

const env = process.env;
const service = env.SANDBOX_SERVICE ?? 'backend-b2b';
const entry = service === 'backend-gateway' ? 'main_gateway' : 'main_b2b';

let config: GraphConfig;
try {
  config = graphConfigFromEnv(env);
} catch (err) {
  if (!(err instanceof GraphNotConfigured)) throw err;
  process.stderr.write(`${pythonTraceback(err, entry)}\n`);
  process.exit(1);
}

log('INFO', 'graph_client', `graph_client configured tenant=${config.tenantId} client=${config.clientId} authority=${config.authorityHost}`);
const clock = startClock(env);
const db = openDb(env.SANDBOX_DB_PATH ?? 'backend.sqlite');
const graph = new GraphClient(config);
const port = Number(env.PORT ?? 8001);
const notificationUrl = `https://127.0.0.1:${port}/api/v1/webhooks/m365/notifications`;
const app = createApp({
  db, graph, env, now: clock.now, notificationUrl, unhealthy: env.SANDBOX_FAULT_UNHEALTHY === '1',
  // A path in the env, the token in its mode 600 file; without one the admin API answers nobody (a random token).
  credentialToken: env.SANDBOX_DOCKER_CREDENTIAL ? readCredential(env.SANDBOX_DOCKER_CREDENTIAL) : randomBytes(32).toString('hex'),
});

serve({
  fetch: app.fetch,
  port,
  hostname: '127.0.0.1',
  createServer,
  serverOptions: { cert: readFileSync(env.SANDBOX_TLS_CERT ?? ''), key: readFileSync(env.SANDBOX_TLS_KEY ?? '') },
}, () => {
  log('INFO', 'uvicorn', `Uvicorn running on https://127.0.0.1:${port} (${service})`);
});

// Warm the token at start so a dead secret shows in the log right after a recreate, as the real service's first call would.
void graph.accessToken().then(
  () => log('INFO', 'graph_client', 'graph_auth ok (client credentials)'),
  (err: Error) => log('ERROR', 'graph_client', `graph_auth failed ${err.message}`),
);

// The 12-hourly m365_subscription_renewal beat task, in sandbox time; only b2b runs it (one scheduler per stack).
// Due when 12 hours of sandbox time have passed since the last run (at first: since the clock's first reading):
// checked when the clock is advanced, and by a timer for when real time gets there first.
if (service === 'backend-b2b') {
  let lastRun = Number.NaN;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => due(clock.now()), Math.max(0, lastRun + RENEWAL_INTERVAL_MS - clock.now()));
    timer.unref();
  };
  const due = (now: number): void => {
    if (Number.isNaN(lastRun)) lastRun = now;
    if (running) return;
    if (now - lastRun < RENEWAL_INTERVAL_MS) return arm();
    running = true;
    lastRun = now;
    void (async () => {
      // `subscription-lapse` armed: this run misses its deadline, so Graph drops the subscriptions.
      if (await takeFault(env, 'subscription-lapse').catch(() => null)) await lapseAll(db, graph);
      else await renewAll({ db, graph, now, notificationUrl, clientState: env.M365_WEBHOOK_CLIENT_STATE ?? '' });
    })().finally(() => {
      running = false;
      // An advance that came while this run was under way may already be due again.
      due(clock.now());
    });
  };
  clock.onChange(due);
}

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    log('INFO', 'uvicorn', 'Shutting down');
    db.close();
    process.exit(0);
  });
}
