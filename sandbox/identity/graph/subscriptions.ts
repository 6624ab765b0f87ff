import { randomBytes, randomUUID } from 'node:crypto';
import type { SandboxContext } from '../../types.ts';
import type { Directory, User } from '../directory.ts';
import { loopbackAgent, loopbackRequest, type LoopbackAnswer, type LoopbackInit } from '../../loopback.ts';
import { SEED } from '../seed.ts';
import { badRequest, GraphFailure } from './errors.ts';
import type { Mail, Message } from './mail.ts';

/** Documented maximum lifetime of a subscription to Outlook messages (under 7 days). */
export const MAX_MESSAGE_SUBSCRIPTION_MINUTES = 10080;
/** Graph silently raises a requested expiration below this to it. */
export const MIN_SUBSCRIPTION_MINUTES = 45;
/** The listener has this long to echo the validationToken. */
export const VALIDATION_TIMEOUT_MS = 10_000;
/** reauthorizationRequired is sent when a subscription has less than this left. */
const REAUTHORIZE_BEFORE_MS = 60 * 60_000;
const MINUTE = 60_000;

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

export interface Subscription {
  id: string;
  resource: string;
  applicationId: string;
  changeType: string;
  clientState: string | null;
  notificationUrl: string;
  notificationQueryOptions: null;
  lifecycleNotificationUrl: string | null;
  expirationDateTime: string;
  creatorId: string;
  includeResourceData: boolean;
  latestSupportedTlsVersion: string;
  encryptionCertificate: null;
  encryptionCertificateId: null;
  notificationUrlAppId: null;
}

interface Entry {
  subscription: Subscription;
  userId: string;
  reauthorizationSent: boolean;
  removed: boolean;
}

export interface Delivery {
  subscriptionId: string;
  kind: 'change' | LifecycleEvent;
  url: string;
  status: number | 'error';
  at: string;
}

const RESOURCE = /^\/?users\/([^/]+)\/(?:messages|mailfolders\('?inbox'?\)\/messages|mailfolders\/inbox\/messages)$/i;

/**
 * Graph webhooks for mail: the validationToken handshake at create time, change notifications when a message lands
 * in a subscribed mailbox, lifecycle notifications, expiry on the sandbox clock (an expired subscription stops
 * delivering and disappears, as in Graph).
 */
export class Subscriptions {
  private readonly entries = new Map<string, Entry>();
  private readonly agent: LoopbackInit['agent'];
  private readonly unsubscribe: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout;
  readonly deliveries: Delivery[] = [];

  constructor(private readonly deps: { context: Pick<SandboxContext, 'clock' | 'log' | 'ca'>; directory: Directory; mail: Mail }) {
    // Graph calls out to listeners that may use the sandbox's own certificates: trust its CA besides the defaults.
    this.agent = loopbackAgent(deps.context.ca.certPem, { defaultRoots: true });
    this.unsubscribe.push(deps.mail.onDelivered((user, message) => this.notifyCreated(user, message)));
    this.unsubscribe.push(deps.context.clock.onAdvance(() => this.sweep()));
    this.timer = setInterval(() => this.sweep(), 5_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const off of this.unsubscribe) off();
  }

  private now(): number {
    return this.deps.context.clock.now();
  }

  private active(entry: Entry): boolean {
    return !entry.removed && Date.parse(entry.subscription.expirationDateTime) > this.now();
  }

  list(): Subscription[] {
    return [...this.entries.values()].filter((entry) => this.active(entry)).map((entry) => ({ ...entry.subscription }));
  }

  get(id: string): Subscription {
    const entry = this.entries.get(id);
    if (!entry || !this.active(entry)) throw new GraphFailure(404, 'ResourceNotFound', 'The object was not found.');
    return { ...entry.subscription };
  }

  private expiration(requested: unknown): string {
    const at = typeof requested === 'string' ? Date.parse(requested) : Number.NaN;
    if (Number.isNaN(at)) throw badRequest("Invalid value for property 'expirationDateTime'.", 'InvalidRequest');
    const now = this.now();
    if (at > now + MAX_MESSAGE_SUBSCRIPTION_MINUTES * MINUTE) {
      throw badRequest(`Subscription expiration can only be ${MAX_MESSAGE_SUBSCRIPTION_MINUTES} minutes in the future.`, 'ExtensionError');
    }
    return new Date(Math.max(at, now + MIN_SUBSCRIPTION_MINUTES * MINUTE)).toISOString();
  }

  private checkUrl(value: unknown, property: string): string {
    let url: URL;
    try {
      url = new URL(String(value));
    } catch {
      throw badRequest(`Invalid '${property}': a valid https URL is required.`, 'InvalidRequest');
    }
    // Graph insists on https; plain http is tolerated on loopback so tests can use a bare listener.
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
      throw badRequest(`Subscription validation request failed. Notification endpoint must be HTTPS: '${property}'.`, 'ValidationError');
    }
    return url.toString();
  }

  /** POST url?validationToken=...: the listener must answer 200 text/plain with the token, within 10 s. */
  private async validate(url: string): Promise<void> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
    const target = new URL(url);
    target.searchParams.set('validationToken', token);
    let response: LoopbackAnswer;
    try {
      response = await loopbackRequest(target, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: '',
        timeoutMs: VALIDATION_TIMEOUT_MS,
        agent: this.agent,
      });
    } catch (error) {
      const timedOut = (error as { name?: string }).name === 'TimeoutError';
      throw badRequest(
        timedOut ? 'Subscription validation request timed out.' : 'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
        'ValidationError',
      );
    }
    const text = response.text;
    if (response.status !== 200) {
      throw badRequest('Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.', 'ValidationError');
    }
    if (text !== token) {
      throw badRequest('Subscription validation request failed. Response must exactly match validationToken query parameter.', 'ValidationError');
    }
  }

  async create(input: Record<string, unknown>, appId: string): Promise<Subscription> {
    const changeType = String(input.changeType ?? '');
    if (!changeType || !changeType.split(',').every((t) => ['created', 'updated', 'deleted'].includes(t.trim()))) {
      throw badRequest("Invalid value for property 'changeType'.", 'InvalidRequest');
    }
    const resource = String(input.resource ?? '');
    const match = RESOURCE.exec(resource);
    if (!match) throw badRequest(`Resource '${resource}' is not supported for subscriptions by the sandbox.`, 'InvalidRequest');
    const user = this.deps.directory.user(decodeURIComponent(match[1] ?? ''));
    if (!user) throw new GraphFailure(404, 'ExtensionError', `Operation: Create; Exception: [Status Code: NotFound; Reason: The mailbox '${match[1]}' was not found.]`);
    if (input.clientState !== undefined && String(input.clientState).length > 128) {
      throw badRequest("The 'clientState' property can be at most 128 characters long.", 'InvalidRequest');
    }
    const notificationUrl = this.checkUrl(input.notificationUrl, 'notificationUrl');
    const lifecycleNotificationUrl =
      input.lifecycleNotificationUrl === undefined || input.lifecycleNotificationUrl === null
        ? null
        : this.checkUrl(input.lifecycleNotificationUrl, 'lifecycleNotificationUrl');
    const expirationDateTime = this.expiration(input.expirationDateTime);
    await this.validate(notificationUrl);
    if (lifecycleNotificationUrl && lifecycleNotificationUrl !== notificationUrl) await this.validate(lifecycleNotificationUrl);
    const subscription: Subscription = {
      id: randomUUID(),
      resource,
      applicationId: appId,
      changeType,
      clientState: input.clientState === undefined ? null : String(input.clientState),
      notificationUrl,
      notificationQueryOptions: null,
      lifecycleNotificationUrl,
      expirationDateTime,
      creatorId: SEED.app.servicePrincipalId,
      includeResourceData: false,
      latestSupportedTlsVersion: 'v1_2',
      encryptionCertificate: null,
      encryptionCertificateId: null,
      notificationUrlAppId: null,
    };
    this.entries.set(subscription.id, { subscription, userId: user.id, reauthorizationSent: false, removed: false });
    this.deps.context.log.write('graph', `subscription created id=${subscription.id} resource=${resource} expires=${expirationDateTime}`);
    return { ...subscription };
  }

  renew(id: string, input: Record<string, unknown>): Subscription {
    this.get(id);
    const entry = this.entries.get(id) as Entry;
    if (input.expirationDateTime !== undefined) entry.subscription.expirationDateTime = this.expiration(input.expirationDateTime);
    if (input.notificationUrl !== undefined) entry.subscription.notificationUrl = this.checkUrl(input.notificationUrl, 'notificationUrl');
    entry.reauthorizationSent = false;
    this.deps.context.log.write('graph', `subscription renewed id=${id} expires=${entry.subscription.expirationDateTime}`);
    return { ...entry.subscription };
  }

  reauthorize(id: string): void {
    this.get(id);
    (this.entries.get(id) as Entry).reauthorizationSent = false;
  }

  delete(id: string): void {
    this.get(id);
    this.entries.delete(id);
    this.deps.context.log.write('graph', `subscription deleted id=${id}`);
  }

  /** Makes subscriptions lapse now (all, or one): the "lapsed subscription" fault. */
  lapse(id?: string): number {
    let count = 0;
    for (const entry of this.entries.values()) {
      if (id && entry.subscription.id !== id) continue;
      if (!this.active(entry)) continue;
      entry.subscription.expirationDateTime = new Date(this.now()).toISOString();
      count += 1;
    }
    this.sweep();
    return count;
  }

  /** Sends a lifecycle notification for one subscription now (e.g. `missed`), whatever its state. */
  async sendLifecycle(id: string, event: LifecycleEvent): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) throw new GraphFailure(404, 'ResourceNotFound', 'The object was not found.');
    await this.postLifecycle(entry, event);
  }

  /** Expiry and near-expiry on the sandbox clock: reauthorizationRequired, then subscriptionRemoved. */
  private sweep(): void {
    const now = this.now();
    for (const entry of this.entries.values()) {
      if (entry.removed) continue;
      const left = Date.parse(entry.subscription.expirationDateTime) - now;
      if (left <= 0) {
        entry.removed = true;
        this.deps.context.log.write('graph', `subscription expired id=${entry.subscription.id}`);
        void this.postLifecycle(entry, 'subscriptionRemoved');
      } else if (left < REAUTHORIZE_BEFORE_MS && !entry.reauthorizationSent) {
        entry.reauthorizationSent = true;
        void this.postLifecycle(entry, 'reauthorizationRequired');
      }
    }
  }

  private async postLifecycle(entry: Entry, lifecycleEvent: LifecycleEvent): Promise<void> {
    const url = entry.subscription.lifecycleNotificationUrl;
    if (!url) return;
    await this.post(url, entry.subscription.id, lifecycleEvent, {
      value: [
        {
          subscriptionId: entry.subscription.id,
          subscriptionExpirationDateTime: entry.subscription.expirationDateTime,
          tenantId: SEED.tenantId,
          clientState: entry.subscription.clientState,
          lifecycleEvent,
        },
      ],
    });
  }

  private notifyCreated(user: User, message: Message): void {
    for (const entry of this.entries.values()) {
      if (entry.userId !== user.id || !this.active(entry)) continue;
      if (!entry.subscription.changeType.split(',').map((t) => t.trim()).includes('created')) continue;
      const resource = `Users/${user.id}/Messages/${message.id}`;
      void this.post(entry.subscription.notificationUrl, entry.subscription.id, 'change', {
        value: [
          {
            subscriptionId: entry.subscription.id,
            subscriptionExpirationDateTime: entry.subscription.expirationDateTime,
            changeType: 'created',
            resource,
            resourceData: {
              '@odata.type': '#Microsoft.Graph.Message',
              '@odata.id': resource,
              '@odata.etag': `W/"${randomBytes(12).toString('base64')}"`,
              id: message.id,
            },
            clientState: entry.subscription.clientState,
            tenantId: SEED.tenantId,
          },
        ],
      });
    }
  }

  /** Delivers one notification, retrying a few times like Graph does (on a compressed schedule). */
  private async post(url: string, subscriptionId: string, kind: Delivery['kind'], payload: unknown): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      let status: number | 'error' = 'error';
      try {
        status = (await loopbackRequest(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify(payload),
          timeoutMs: VALIDATION_TIMEOUT_MS,
          agent: this.agent,
        })).status;
      } catch {
        status = 'error';
      }
      this.deliveries.push({ subscriptionId, kind, url, status, at: new Date(this.now()).toISOString() });
      this.deps.context.log.write('graph', `notification ${kind} subscription=${subscriptionId} status=${status}`);
      if (typeof status === 'number' && status >= 200 && status < 300) return;
      await new Promise((resolve) => setTimeout(resolve, 500 * 2 ** attempt).unref());
    }
  }
}
