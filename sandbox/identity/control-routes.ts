import { CONTROL_PREFIX } from '../control.ts';
import type { ControlRoute, SandboxContext } from '../types.ts';
import type { Directory } from './directory.ts';
import type { Mail } from './graph/mail.ts';
import type { LifecycleEvent, Subscriptions } from './graph/subscriptions.ts';
import { SEED } from './seed.ts';

const LIFECYCLE_EVENTS: readonly LifecycleEvent[] = ['reauthorizationRequired', 'subscriptionRemoved', 'missed'];

/**
 * Control routes of the identity side: inject inbound mail (what an outside sender does), see what left the tenant,
 * make subscriptions lapse or send lifecycle events, and list secrets without their values.
 */
export function identityControlRoutes(deps: { context: Pick<SandboxContext, 'log'>; directory: Directory; mail: Mail; subscriptions: Subscriptions }): ControlRoute {
  const { directory, mail, subscriptions } = deps;
  return async ({ method, path, body }) => {
    const route = `${method} ${path.slice(CONTROL_PREFIX.length)}`;
    if (route === 'POST /mail/inbound') {
      const input = (body ?? {}) as { from?: unknown; to?: unknown; subject?: unknown; body?: unknown; fromName?: unknown };
      if (typeof input.to !== 'string' || !input.to.includes('@')) throw new Error('Unexpected inbound mail without "to", expected an address');
      const from = typeof input.from === 'string' ? input.from : SEED.verifiedSender.address;
      const delivered = mail.send({
        subject: String(input.subject ?? ''),
        body: { contentType: 'text', content: String(input.body ?? '') },
        from: { address: from, ...(typeof input.fromName === 'string' ? { name: input.fromName } : {}) },
        toRecipients: [{ emailAddress: { address: input.to } }],
      });
      deps.context.log.write('mail', `inbound from=${from} to=${input.to} delivered=${delivered.length}`);
      if (delivered.length === 0) return { status: 404, body: { error: `No mailbox in the tenant for ${input.to}` } };
      return { status: 201, body: { delivered: delivered.map(({ user, message }) => ({ userId: user.id, messageId: message.id })) } };
    }
    if (route === 'GET /mail/external') return { status: 200, body: mail.external };
    if (route === 'GET /subscriptions') return { status: 200, body: { active: subscriptions.list(), deliveries: subscriptions.deliveries } };
    if (route === 'POST /subscriptions/lapse') {
      const id = (body as { id?: unknown } | undefined)?.id;
      return { status: 200, body: { lapsed: subscriptions.lapse(typeof id === 'string' ? id : undefined) } };
    }
    const lifecycle = /^POST \/subscriptions\/([^/]+)\/lifecycle$/.exec(route);
    if (lifecycle) {
      const event = (body as { event?: unknown } | undefined)?.event;
      if (!LIFECYCLE_EVENTS.includes(event as LifecycleEvent)) throw new Error(`Unexpected lifecycle event ${String(event)}, expected one of ${LIFECYCLE_EVENTS.join(', ')}`);
      await subscriptions.sendLifecycle(lifecycle[1] ?? '', event as LifecycleEvent);
      return { status: 204, body: undefined };
    }
    if (route === 'GET /tenant/credentials') {
      return { status: 200, body: directory.credentials().map(({ value: _value, ...rest }) => rest) };
    }
    return undefined;
  };
}
