import { Hono } from 'hono';
import { requireCredential } from '../../control.ts';
import type { Db } from './db.ts';
import { listApprovals, type SubscriptionRow } from './db.ts';
import { GraphError, type GraphClient } from './graph.ts';
import { handleNotification, type GraphNotification } from './inbound.ts';
import { log } from './log.ts';
import { sendEmail } from './mail.ts';
import { ensureInboundSubscription, lapseAll, renewAll } from './subscriptions.ts';

export interface AppDeps {
  db: Db;
  graph: GraphClient;
  env: NodeJS.ProcessEnv;
  now(): number;
  notificationUrl: string;
  unhealthy: boolean;
  /** The sandbox's credential: the admin API answers only requests that carry it, like every other sandbox endpoint. */
  credentialToken: string;
}

/**
 * The backend's HTTP surface: health, the Graph webhook, and a small admin API the sandbox's tests drive. Health and
 * the webhook are open, as the real service's are (the webhook checks clientState); the admin API, which sends mail
 * and reads approvals, requires the sandbox's credential.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const clientState = deps.env.M365_WEBHOOK_CLIENT_STATE ?? '';
  const subDeps = () => ({
    db: deps.db, graph: deps.graph, now: deps.now(), notificationUrl: deps.notificationUrl, clientState,
  });

  app.get('/health', (c) => (deps.unhealthy ? c.json({ status: 'degraded' }, 503) : c.json({ status: 'ok' })));

  app.post('/api/v1/webhooks/m365/notifications', async (c) => {
    // Subscription validation handshake: echo the token as text/plain within 10 seconds.
    const token = c.req.query('validationToken');
    if (token !== undefined) {
      log('INFO', 'graph_subscription', 'graph_subscription validation handshake ok');
      return c.text(token, 200, { 'content-type': 'text/plain' });
    }
    const body = (await c.req.json().catch(() => ({}))) as { value?: GraphNotification[] };
    // Acknowledge first (Graph retries slow endpoints), then process.
    queueMicrotask(() => {
      void (async () => {
        for (const n of body.value ?? []) {
          await handleNotification({
            db: deps.db, graph: deps.graph, clientState,
            // Reauthorization is answered by renewing; a removed subscription stays gone until someone re-arms it
            // (fm_m365_wire_org.py or the 12-hourly renewal), which is the runbook's documented recovery.
            onLifecycle: (event) => {
              if (event === 'reauthorizationRequired') void renewAll(subDeps());
            },
          }, n);
        }
      })();
    });
    return c.body(null, 202);
  });

  app.use('/admin/*', requireCredential(deps.credentialToken));
  app.get('/admin/approvals', (c) => c.json(listApprovals(deps.db)));
  app.get('/admin/subscriptions', (c) => c.json(deps.db.prepare('SELECT * FROM graph_subscriptions').all() as SubscriptionRow[]));
  app.post('/admin/send-test-mail', async (c) => {
    const b = (await c.req.json()) as { to: string; subject?: string; body?: string };
    return c.json(await sendEmail(deps.graph, deps.env, { to: b.to, subject: b.subject ?? 'sandbox test', body: b.body ?? 'test' }));
  });
  app.post('/admin/ensure-inbound-subscription', async (c) => {
    const b = (await c.req.json()) as { org: string; mailbox: string; m365UserId: string };
    try {
      return c.json(await ensureInboundSubscription(subDeps(), { orgId: b.org, mailbox: b.mailbox, userId: b.m365UserId }));
    } catch (err) {
      const msg = err instanceof GraphError ? err.message : (err as Error).message;
      log('ERROR', 'provisioning', `graph_subscription ensure failed org=${b.org} ${msg}`);
      return c.json({ error: msg }, 502);
    }
  });
  app.post('/admin/renew-subscriptions', async (c) => c.json({ renewed: await renewAll(subDeps()) }));
  app.post('/admin/lapse-subscriptions', async (c) => c.json({ lapsed: await lapseAll(deps.db, deps.graph) }));
  return app;
}
