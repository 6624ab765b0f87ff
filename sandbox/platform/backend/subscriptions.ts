import type { Db, SubscriptionRow } from './db.ts';
import { GraphError, type GraphClient } from './graph.ts';
import { log } from './log.ts';

/** Graph caps mail subscriptions at 4230 minutes; the renewal task runs every 12 hours. */
export const SUBSCRIPTION_LIFETIME_MS = 4230 * 60_000;
export const RENEWAL_INTERVAL_MS = 12 * 3_600_000;

interface GraphSubscription { id: string; expirationDateTime: string; resource?: string }

export interface EnsureResult { action: 'created' | 'renewed'; subscriptionId: string; expiration: string }

/** `ProvisioningService.ensure_inbound_subscription`: renew the org's live subscription, or create one. Idempotent. */
export async function ensureInboundSubscription(deps: {
  db: Db; graph: GraphClient; now: number; notificationUrl: string; clientState: string;
}, org: { orgId: string; mailbox: string; userId: string }): Promise<EnsureResult> {
  const { db, graph } = deps;
  const resource = `users/${org.userId}/mailFolders('Inbox')/messages`;
  const expiration = new Date(deps.now + SUBSCRIPTION_LIFETIME_MS).toISOString();
  const existing = db.prepare('SELECT * FROM graph_subscriptions WHERE org_id = ? AND resource = ?')
    .get(org.orgId, resource) as SubscriptionRow | undefined;
  const live = await graph.request<{ value: GraphSubscription[] }>('GET', 'subscriptions');
  if (existing && live.value.some((s) => s.id === existing.subscription_id)) {
    const renewed = await graph.request<GraphSubscription>('PATCH', `subscriptions/${existing.subscription_id}`, {
      expirationDateTime: expiration,
    });
    const exp = renewed?.expirationDateTime ?? expiration;
    db.prepare('UPDATE graph_subscriptions SET expiration = ? WHERE org_id = ? AND resource = ?').run(exp, org.orgId, resource);
    log('INFO', 'provisioning', `graph_subscription renewed org=${org.orgId} id=${existing.subscription_id} expires=${exp}`);
    return { action: 'renewed', subscriptionId: existing.subscription_id, expiration: exp };
  }
  const created = await graph.request<GraphSubscription>('POST', 'subscriptions', {
    changeType: 'created',
    notificationUrl: deps.notificationUrl,
    lifecycleNotificationUrl: deps.notificationUrl,
    resource,
    expirationDateTime: expiration,
    clientState: deps.clientState,
  });
  db.prepare(`INSERT OR REPLACE INTO graph_subscriptions (org_id, resource, mailbox, m365_user_id, subscription_id, expiration)
    VALUES (?, ?, ?, ?, ?, ?)`).run(org.orgId, resource, org.mailbox, org.userId, created.id, created.expirationDateTime);
  log('INFO', 'provisioning', `graph_subscription created org=${org.orgId} id=${created.id} expires=${created.expirationDateTime}`);
  return { action: 'created', subscriptionId: created.id, expiration: created.expirationDateTime };
}

/** The `m365_subscription_renewal` beat task: ensure every known subscription; failures are logged, not thrown. */
export async function renewAll(deps: Parameters<typeof ensureInboundSubscription>[0]): Promise<number> {
  const rows = deps.db.prepare('SELECT * FROM graph_subscriptions').all() as SubscriptionRow[];
  let renewed = 0;
  for (const row of rows) {
    try {
      await ensureInboundSubscription(deps, { orgId: row.org_id, mailbox: row.mailbox, userId: row.m365_user_id });
      renewed++;
    } catch (err) {
      const msg = err instanceof GraphError ? err.message : (err as Error).message;
      log('ERROR', 'm365_subscription_renewal', `graph_subscription renewal failed org=${row.org_id} ${msg}`);
    }
  }
  log('INFO', 'm365_subscription_renewal', `graph_subscription renewal done renewed=${renewed}/${rows.length}`);
  return renewed;
}

/** The `subscription-lapse` fault: the subscriptions disappear from Graph, as when renewal missed the deadline. */
export async function lapseAll(db: Db, graph: GraphClient): Promise<number> {
  const rows = db.prepare('SELECT * FROM graph_subscriptions').all() as SubscriptionRow[];
  for (const row of rows) {
    await graph.request('DELETE', `subscriptions/${row.subscription_id}`).catch(() => undefined);
    log('WARNING', 'm365_subscription_renewal', `graph_subscription lapsed org=${row.org_id} id=${row.subscription_id}`);
  }
  return rows.length;
}
