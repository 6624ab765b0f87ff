/**
 * The tenant every sandbox starts with. The ids are fixed (they look like real GUIDs) so that runbooks, fixtures and
 * test expectations can name them; secret values are random per start and never fixed anywhere.
 */
export const SEED = {
  tenantId: '4b1f8e2a-7c3d-4e5f-9a6b-2c8d0e1f3a5b',
  tenantName: 'Curate-Me',
  defaultDomain: 'curate-me.ai',
  initialDomain: 'curatemeai.onmicrosoft.com',
  app: {
    displayName: 'Curate-Me Agent Identity',
    appId: '9f3c2b1a-6d5e-4f70-8a9b-1c2d3e4f5a6b',
    objectId: '2e7d4c1b-8a9f-4b3e-a6d5-7c8b9a0f1e2d',
    servicePrincipalId: 'c5a4b3d2-1e0f-4a9b-8c7d-6e5f4a3b2c1d',
    createdDateTime: '2025-09-02T09:14:27Z',
  },
  /** The one secret the app has when the sandbox starts: the one the runbook rotates away from. */
  existingSecret: {
    keyId: '6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d',
    displayName: 'graph-secret-2026-06',
    ageDays: 150,
    expiresInDays: 30,
  },
  mailbox: {
    id: 'd8e7f6a5-b4c3-4d2e-9f1a-0b9c8d7e6f5a',
    displayName: 'Curate-Me Family',
    userPrincipalName: 'family@curate-me.ai',
    /** The consumer ingest lane: plus-addressed mail to this alias lands in the family mailbox. */
    alias: 'assistant@curate-me.ai',
    ingestToken: 'h7k2m9',
  },
  admin: {
    id: '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0',
    displayName: 'Platform Admin',
    userPrincipalName: 'admin@curate-me.ai',
  },
  verifiedSender: { address: 'parent@example.com', name: 'Parent Example' },
  /** What Entra grants the app (application permissions, admin-consented). */
  roles: ['Application.ReadWrite.OwnedBy', 'Mail.Send', 'Mail.Read', 'User.Read.All'],
} as const;

export const GRAPH_RESOURCE = 'https://graph.microsoft.com';
/** Microsoft Graph's well-known application id, accepted as a resource alias in scopes. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export const ingestAddress = (): string =>
  `${SEED.mailbox.alias.split('@')[0]}+${SEED.mailbox.ingestToken}@${SEED.defaultDomain}`;
