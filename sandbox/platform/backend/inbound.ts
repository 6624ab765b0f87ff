import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { Db } from './db.ts';
import { GraphError, type GraphClient } from './graph.ts';
import { log } from './log.ts';

/** One entry of a Graph change or lifecycle notification's `value` array. */
export interface GraphNotification {
  subscriptionId?: string;
  clientState?: string;
  changeType?: string;
  resource?: string;
  resourceData?: { id?: string };
  lifecycleEvent?: string;
}

interface GraphMessage {
  id: string;
  subject?: string;
  from?: { emailAddress?: { address?: string } };
  toRecipients?: { emailAddress?: { address?: string } }[];
}

/**
 * The inbound lane: a notification names a message; fetch it, and if its sender is a household's verified sender
 * (`mobile_allowed_senders`), file a pending approval for that household's org.
 */
export async function handleNotification(
  deps: { db: Db; graph: GraphClient; clientState: string; onLifecycle(event: string, subscriptionId: string): void },
  n: GraphNotification,
): Promise<void> {
  const sub = n.subscriptionId ?? '?';
  if (!sameSecret(n.clientState ?? '', deps.clientState)) {
    log('WARNING', 'inbound', `inbound notification rejected: clientState mismatch subscription=${sub}`);
    return;
  }
  if (n.lifecycleEvent) {
    log('WARNING', 'inbound', `graph_subscription lifecycle event=${n.lifecycleEvent} subscription=${sub}`);
    deps.onLifecycle(n.lifecycleEvent, sub);
    return;
  }
  log('INFO', 'inbound', `inbound notification subscription=${sub} change=${n.changeType ?? '?'}`);
  const resource = n.resource ?? '';
  let msg: GraphMessage;
  try {
    msg = await deps.graph.request<GraphMessage>('GET', resource);
  } catch (err) {
    const why = err instanceof GraphError ? err.message : (err as Error).message;
    log('ERROR', 'inbound', `graph_message fetch failed resource=${resource} ${why}`);
    return;
  }
  const from = msg.from?.emailAddress?.address ?? '';
  const to = msg.toRecipients?.[0]?.emailAddress?.address ?? '';
  log('INFO', 'inbound', `graph_message fetched id=${msg.id} from=${from} to=${to}`);
  const sender = deps.db.prepare('SELECT org_id FROM mobile_allowed_senders WHERE email = ?').get(from) as
    { org_id: string } | undefined;
  if (!sender) {
    log('INFO', 'inbound', `inbound dropped: sender not verified from=${from}`);
    return;
  }
  const id = `apr_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const inserted = deps.db.prepare(`INSERT OR IGNORE INTO approvals
    (id, org_id, sender, recipient, subject, graph_message_id, status, created_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)`)
    .run(id, sender.org_id, from, to, msg.subject ?? '', msg.id, new Date().toISOString());
  if (inserted.changes === 0) {
    log('INFO', 'approval', `approval exists for graph_message id=${msg.id} (duplicate notification)`);
    return;
  }
  log('INFO', 'approval', `approval created id=${id} org=${sender.org_id} status=pending from=${from}`);
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
