import type { Clock, PasswordCredential, TenantView } from '../types.ts';
import { SEED } from './seed.ts';
import { newId, newSecretValue } from './secrets.ts';

const DAY = 86_400_000;

export interface Application {
  id: string;
  appId: string;
  displayName: string;
  createdDateTime: string;
  passwordCredentials: PasswordCredential[];
}

export interface User {
  id: string;
  displayName: string;
  userPrincipalName: string;
  mail: string;
  /** Extra SMTP addresses that deliver to this mailbox (plus-addressing applies to each). */
  aliases: string[];
}

export type SecretCheck = 'valid' | 'unknown-app' | 'wrong-secret' | 'expired-secret';

export interface DirectoryOptions {
  /** Days until the seeded secret expires (default 30); negative for an already expired one. */
  existingSecretExpiresInDays?: number;
}

/**
 * The tenant's directory: the app registration with its client secrets, and the users. The single owner of secret
 * values: everything else sees them only through `checkSecret`, addPassword's one-time answer and TenantView.
 */
export class Directory implements TenantView {
  readonly tenantId = SEED.tenantId;
  readonly appId = SEED.app.appId;
  readonly applications: Application[];
  readonly users: User[];
  private readonly issued: string[] = [];

  constructor(private readonly clock: Clock, options: DirectoryOptions = {}) {
    const now = clock.now();
    const seeded = SEED.existingSecret;
    const value = newSecretValue();
    this.issued.push(value);
    this.applications = [
      {
        id: SEED.app.objectId,
        appId: SEED.app.appId,
        displayName: SEED.app.displayName,
        createdDateTime: SEED.app.createdDateTime,
        passwordCredentials: [
          {
            keyId: seeded.keyId,
            displayName: seeded.displayName,
            hint: value.slice(0, 3),
            startDateTime: new Date(now - seeded.ageDays * DAY).toISOString(),
            endDateTime: new Date(now + (options.existingSecretExpiresInDays ?? seeded.expiresInDays) * DAY).toISOString(),
            value,
          },
        ],
      },
    ];
    this.users = [
      {
        id: SEED.mailbox.id,
        displayName: SEED.mailbox.displayName,
        userPrincipalName: SEED.mailbox.userPrincipalName,
        mail: SEED.mailbox.userPrincipalName,
        aliases: [SEED.mailbox.alias],
      },
      {
        id: SEED.admin.id,
        displayName: SEED.admin.displayName,
        userPrincipalName: SEED.admin.userPrincipalName,
        mail: SEED.admin.userPrincipalName,
        aliases: [],
      },
    ];
  }

  application(objectId: string): Application | undefined {
    return this.applications.find((app) => app.id === objectId);
  }

  applicationByAppId(appId: string): Application | undefined {
    return this.applications.find((app) => app.appId.toLowerCase() === appId.toLowerCase());
  }

  /** Entra's addPassword: the value is returned here once and is retrievable afterwards only through TenantView. */
  addPassword(app: Application, input: { displayName?: string; endDateTime?: string; startDateTime?: string }): PasswordCredential {
    const now = this.clock.now();
    const value = newSecretValue();
    this.issued.push(value);
    const credential: PasswordCredential = {
      keyId: newId(),
      displayName: input.displayName ?? '',
      hint: value.slice(0, 3),
      startDateTime: input.startDateTime ?? new Date(now).toISOString(),
      // Graph's default lifetime for a password credential added without an end date is two years.
      endDateTime: input.endDateTime ?? new Date(now + 730 * DAY).toISOString(),
      value,
    };
    app.passwordCredentials.push(credential);
    return credential;
  }

  removePassword(app: Application, keyId: string): boolean {
    const index = app.passwordCredentials.findIndex((credential) => credential.keyId === keyId);
    if (index < 0) return false;
    app.passwordCredentials.splice(index, 1);
    return true;
  }

  /** What the token endpoint decides about a client_id/client_secret pair, on the sandbox clock. */
  checkSecret(appId: string, secret: string): SecretCheck {
    const app = this.applicationByAppId(appId);
    if (!app) return 'unknown-app';
    const match = app.passwordCredentials.find((credential) => credential.value === secret);
    if (!match) return 'wrong-secret';
    const now = this.clock.now();
    if (Date.parse(match.startDateTime) > now || Date.parse(match.endDateTime) <= now) return 'expired-secret';
    return 'valid';
  }

  user(idOrUpn: string): User | undefined {
    const key = idOrUpn.toLowerCase();
    return this.users.find((user) => user.id === key || user.userPrincipalName.toLowerCase() === key);
  }

  /** The mailbox an SMTP address delivers to: primary address or alias, with `local+tag@domain` plus-addressing. */
  userByAddress(address: string): User | undefined {
    const [local = '', domain = ''] = address.trim().toLowerCase().split('@');
    const base = `${local.split('+')[0]}@${domain}`;
    return this.users.find((user) => [user.mail, user.userPrincipalName, ...user.aliases].some((a) => a.toLowerCase() === base));
  }

  // TenantView, for the platform side.
  credentials(): readonly PasswordCredential[] {
    return this.applicationByAppId(this.appId)?.passwordCredentials.map((credential) => ({ ...credential })) ?? [];
  }

  isSecretValid(appId: string, secret: string): boolean {
    return this.checkSecret(appId, secret) === 'valid';
  }

  knownSecretValues(): readonly string[] {
    return [...this.issued];
  }

  private tokens: () => readonly string[] = () => [];

  /** The authority signs tokens, the directory answers for the tenant: it is told where the signed tokens are. */
  trackTokens(source: () => readonly string[]): void {
    this.tokens = source;
  }

  knownTokenValues(): readonly string[] {
    return this.tokens();
  }
}
