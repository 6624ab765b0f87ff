import { randomBytes } from 'node:crypto';
import type { Clock } from '../../types.ts';
import type { Directory, User } from '../directory.ts';

export interface EmailAddress {
  name?: string;
  address: string;
}

export interface Recipient {
  emailAddress: EmailAddress;
}

export interface Message {
  id: string;
  createdDateTime: string;
  lastModifiedDateTime: string;
  receivedDateTime: string;
  sentDateTime: string;
  hasAttachments: boolean;
  internetMessageId: string;
  subject: string;
  bodyPreview: string;
  importance: 'normal';
  parentFolderId: string;
  conversationId: string;
  isRead: boolean;
  isDraft: boolean;
  body: { contentType: 'text' | 'html'; content: string };
  sender: Recipient;
  from: Recipient;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
}

export interface OutgoingMessage {
  subject: string;
  body: { contentType: 'text' | 'html'; content: string };
  from: EmailAddress;
  toRecipients: Recipient[];
  ccRecipients?: Recipient[];
}

/** Mail that left the tenant (recipients outside it): kept so tests can see what the backend sent. */
export interface ExternalDelivery {
  at: string;
  from: string;
  to: string[];
  subject: string;
}

type DeliveryListener = (user: User, message: Message) => void;

/** Graph-style opaque ids (base64url, like Exchange's `AAMk...`). */
const exchangeId = (): string => `AAMkA${randomBytes(48).toString('base64url')}`;

/** The tenant's mailboxes. Delivery to a tenant address stores the message and tells listeners (notifications). */
export class Mail {
  private readonly boxes = new Map<string, Message[]>();
  private readonly listeners = new Set<DeliveryListener>();
  readonly external: ExternalDelivery[] = [];

  constructor(
    private readonly directory: Directory,
    private readonly clock: Clock,
  ) {}

  onDelivered(listener: DeliveryListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  messages(user: User): Message[] {
    return [...(this.boxes.get(user.id) ?? [])].sort((a, b) => b.receivedDateTime.localeCompare(a.receivedDateTime));
  }

  message(user: User, id: string): Message | undefined {
    return this.boxes.get(user.id)?.find((message) => message.id === id);
  }

  /** Routes a message to every recipient: tenant mailboxes (with plus-addressing) store it, others go external. */
  send(outgoing: OutgoingMessage): Array<{ user: User; message: Message }> {
    const now = new Date(this.clock.now()).toISOString();
    const recipients = [...outgoing.toRecipients, ...(outgoing.ccRecipients ?? [])];
    const delivered: Array<{ user: User; message: Message }> = [];
    const external: string[] = [];
    const internetMessageId = `<${randomBytes(12).toString('hex')}@sandbox.curate-me.ai>`;
    const conversationId = `AAQkA${randomBytes(24).toString('base64url')}`;
    for (const recipient of recipients) {
      const user = this.directory.userByAddress(recipient.emailAddress.address);
      if (!user) {
        external.push(recipient.emailAddress.address);
        continue;
      }
      if (delivered.some((entry) => entry.user.id === user.id)) continue;
      const sender = { emailAddress: { ...outgoing.from } };
      const message: Message = {
        id: exchangeId(),
        createdDateTime: now,
        lastModifiedDateTime: now,
        receivedDateTime: now,
        sentDateTime: now,
        hasAttachments: false,
        internetMessageId,
        subject: outgoing.subject,
        bodyPreview: outgoing.body.content.replace(/<[^>]*>/g, '').slice(0, 255),
        importance: 'normal',
        parentFolderId: 'AQMkAGInbox',
        conversationId,
        isRead: false,
        isDraft: false,
        body: { ...outgoing.body },
        sender,
        from: sender,
        toRecipients: outgoing.toRecipients.map((r) => ({ emailAddress: { ...r.emailAddress } })),
        ccRecipients: (outgoing.ccRecipients ?? []).map((r) => ({ emailAddress: { ...r.emailAddress } })),
      };
      const box = this.boxes.get(user.id) ?? [];
      box.push(message);
      this.boxes.set(user.id, box);
      delivered.push({ user, message });
    }
    if (external.length > 0) this.external.push({ at: now, from: outgoing.from.address, to: external, subject: outgoing.subject });
    for (const { user, message } of delivered) for (const listener of [...this.listeners]) listener(user, message);
    return delivered;
  }
}
