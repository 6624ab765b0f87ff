import { randomBytes } from 'node:crypto';
import { Hono } from 'hono';
import type { PasswordCredential, SandboxContext } from '../../types.ts';
import type { Application, Directory } from '../directory.ts';
import { SEED } from '../seed.ts';
import { Layout } from './layout.tsx';

const DAY = 86_400_000;
/** The choices Entra's "Expires" select offers (custom dates are not modelled). */
export const EXPIRY_CHOICES = [
  { days: 90, label: '90 days (3 months)' },
  { days: 180, label: '180 days (6 months)' },
  { days: 365, label: '365 days (12 months)' },
  { days: 545, label: '545 days (18 months)' },
  { days: 730, label: '730 days (24 months)' },
] as const;
/** How long after creation the Copy button still works (the value itself is rendered once only). */
const REVEAL_COPY_WINDOW_MS = 15 * 60_000;

interface Reveal {
  appId: string;
  keyId: string;
  rendered: boolean;
  until: number;
}

/** Entra shows dates as M/D/YYYY. */
const shortDate = (iso: string) => new Date(iso).toLocaleDateString('en-US', { timeZone: 'UTC' });
const masked = (credential: PasswordCredential) => `${credential.hint}${'*'.repeat(37)}`;

const COPY_SCRIPT = `
document.addEventListener('click', async (event) => {
  const button = event.target.closest('button[data-copy]');
  if (!button) return;
  const status = document.getElementById('copy-status');
  const payload = button.dataset.copy === 'value' ? { reveal: button.dataset.reveal } : { keyId: button.dataset.keyid };
  const response = await fetch('/api/clipboard', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
  const text = button.dataset.copy === 'value' ? document.getElementById('secret-value-' + button.dataset.keyid)?.textContent : button.dataset.keyid;
  if (navigator.clipboard && text) { navigator.clipboard.writeText(text).catch(() => undefined); }
  if (status) status.textContent = response.ok ? 'Copied' : 'Copy failed';
});`;

/** The Entra admin center, as much of it as the rotation runbook clicks through. */
export function portalApp(deps: { directory: Directory; context: Pick<SandboxContext, 'clock' | 'clipboard' | 'log'> }): Hono {
  const { directory, context } = deps;
  const reveals = new Map<string, Reveal>();
  const app = new Hono();

  const findApp = (id: string): Application | undefined => directory.application(id);

  app.get('/', (c) =>
    c.html(
      <Layout title="Home" crumbs={[]}>
        <p>
          Tenant <strong>{SEED.tenantName}</strong>, primary domain {SEED.defaultDomain}, tenant ID {SEED.tenantId}.
        </p>
        <h2>Applications</h2>
        <ul>
          <li>
            <a href="/apps">App registrations</a>
          </li>
        </ul>
      </Layout>,
    ),
  );

  app.get('/apps', (c) =>
    c.html(
      <Layout title="App registrations" crumbs={[['/apps', 'App registrations']]}>
        <table aria-label="Applications">
          <thead>
            <tr>
              <th>Display name</th>
              <th>Application (client) ID</th>
              <th>Created on</th>
            </tr>
          </thead>
          <tbody>
            {directory.applications.map((a) => (
              <tr>
                <td>
                  <a href={`/apps/${a.id}`}>{a.displayName}</a>
                </td>
                <td>{a.appId}</td>
                <td>{shortDate(a.createdDateTime)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Layout>,
    ),
  );

  app.get('/apps/:id', (c) => {
    const a = findApp(c.req.param('id'));
    if (!a) return c.notFound();
    return c.html(
      <Layout title={a.displayName} crumbs={[['/apps', 'App registrations'], [`/apps/${a.id}`, a.displayName]]}>
        <nav aria-label="Manage">
          <ul>
            <li>
              <a href={`/apps/${a.id}`}>Overview</a>
            </li>
            <li>
              <a href={`/apps/${a.id}/credentials`}>Certificates &amp; secrets</a>
            </li>
          </ul>
        </nav>
        <dl>
          <dt>Application (client) ID</dt>
          <dd>{a.appId}</dd>
          <dt>Object ID</dt>
          <dd>{a.id}</dd>
          <dt>Directory (tenant) ID</dt>
          <dd>{SEED.tenantId}</dd>
          <dt>Client credentials</dt>
          <dd>
            <a href={`/apps/${a.id}/credentials`}>{`0 certificate, ${a.passwordCredentials.length} secret`}</a>
          </dd>
        </dl>
      </Layout>,
    );
  });

  app.get('/apps/:id/credentials', (c) => {
    const a = findApp(c.req.param('id'));
    if (!a) return c.notFound();
    const base = `/apps/${a.id}/credentials`;
    const tab = c.req.query('tab') ?? 'secrets';
    const confirmKey = c.req.query('confirm');
    const confirming = a.passwordCredentials.find((p) => p.keyId === confirmKey);
    const revealNonce = c.req.query('created');
    const reveal = revealNonce ? reveals.get(revealNonce) : undefined;
    // The value is in the page once: a reload (or any later render) shows it masked.
    const revealKey = reveal && !reveal.rendered && reveal.appId === a.id ? reveal.keyId : undefined;
    if (reveal) reveal.rendered = true;
    const now = context.clock.now();
    return c.html(
      <Layout title={`${a.displayName} | Certificates & secrets`} crumbs={[['/apps', 'App registrations'], [`/apps/${a.id}`, a.displayName], [base, 'Certificates & secrets']]}>
        <div role="tablist" aria-label="Credential types">
          <a role="tab" href={`${base}?tab=certificates`} aria-selected={tab === 'certificates' ? 'true' : 'false'}>
            Certificates (0)
          </a>
          <a role="tab" href={`${base}?tab=secrets`} aria-selected={tab === 'secrets' ? 'true' : 'false'}>
            {`Client secrets (${a.passwordCredentials.length})`}
          </a>
          <a role="tab" href={`${base}?tab=federated`} aria-selected={tab === 'federated' ? 'true' : 'false'}>
            Federated credentials (0)
          </a>
        </div>
        {tab !== 'secrets' ? (
          <section role="tabpanel" aria-label="Credentials">
            <p>No credentials of this type.</p>
          </section>
        ) : (
          <section role="tabpanel" aria-label="Client secrets">
            <p>A secret string that the application uses to prove its identity when requesting a token. Also can be referred to as application password.</p>
            <form method="get" action={base}>
              <input type="hidden" name="tab" value="secrets" />
              <input type="hidden" name="new" value="1" />
              <button type="submit">+ New client secret</button>
            </form>
            <p role="status" id="copy-status" aria-live="polite"></p>
            <table aria-label="Client secrets">
              <thead>
                <tr>
                  <th>Description</th>
                  <th>Expires</th>
                  <th>Value</th>
                  <th>Secret ID</th>
                  <th>
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {a.passwordCredentials.map((p) => {
                  const shown = p.keyId === revealKey;
                  const expired = Date.parse(p.endDateTime) <= now;
                  return (
                    <tr data-keyid={p.keyId}>
                      <td>{p.displayName}</td>
                      <td>
                        {shortDate(p.endDateTime)}
                        {expired ? ' (Expired)' : ''}
                      </td>
                      <td>
                        <span class="secret-value" id={`secret-value-${p.keyId}`}>
                          {shown ? p.value : masked(p)}
                        </span>
                        {shown ? (
                          <button type="button" aria-label="Copy to clipboard" title="Copy to clipboard" data-copy="value" data-reveal={revealNonce} data-keyid={p.keyId}>
                            ⧉
                          </button>
                        ) : null}
                      </td>
                      <td>
                        {p.keyId}
                        <button type="button" aria-label="Copy secret ID" title="Copy secret ID" data-copy="id" data-keyid={p.keyId}>
                          ⧉
                        </button>
                      </td>
                      <td>
                        <form method="get" action={base}>
                          <input type="hidden" name="tab" value="secrets" />
                          <input type="hidden" name="confirm" value={p.keyId} />
                          <button type="submit" aria-label="Delete" title="Delete">
                            🗑
                          </button>
                        </form>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {revealKey ? <p>Copy the new client secret value. You won't be able to retrieve it after you perform another operation or leave this blade.</p> : null}
          </section>
        )}
        {c.req.query('new') === '1' ? (
          <div role="dialog" aria-modal="true" aria-label="Add a client secret">
            <h2>Add a client secret</h2>
            <form method="post" action={base}>
              <label for="description">Description</label>
              <input id="description" name="description" type="text" autofocus />
              <label for="expires">Expires</label>
              <select id="expires" name="expires">
                {EXPIRY_CHOICES.map((choice) => (
                  <option value={String(choice.days)} selected={choice.days === 180}>
                    {choice.label}
                  </option>
                ))}
              </select>
              <p>Recommended: 180 days (6 months)</p>
              <button type="submit">Add</button>
              <a class="button" role="button" href={`${base}?tab=secrets`}>
                Cancel
              </a>
            </form>
          </div>
        ) : null}
        {confirming ? (
          <div role="dialog" aria-modal="true" aria-label="Delete client secret">
            <h2>Delete client secret</h2>
            <p>{`Do you want to delete the client secret "${confirming.displayName}" (${confirming.keyId})? This cannot be undone.`}</p>
            <form method="post" action={`${base}/${confirming.keyId}/delete`}>
              <button type="submit">Delete</button>
              <a class="button" role="button" href={`${base}?tab=secrets`}>
                Cancel
              </a>
            </form>
          </div>
        ) : null}
        <script dangerouslySetInnerHTML={{ __html: COPY_SCRIPT }} />
      </Layout>,
    );
  });

  app.post('/apps/:id/credentials', async (c) => {
    const a = findApp(c.req.param('id'));
    if (!a) return c.notFound();
    const form = await c.req.parseBody();
    const days = Number(form.expires ?? 180);
    if (!EXPIRY_CHOICES.some((choice) => choice.days === days)) return c.text(`Unexpected expiry ${String(form.expires)}`, 400);
    const now = context.clock.now();
    const credential = directory.addPassword(a, {
      displayName: String(form.description ?? ''),
      startDateTime: new Date(now).toISOString(),
      endDateTime: new Date(now + days * DAY).toISOString(),
    });
    const nonce = randomBytes(16).toString('hex');
    reveals.set(nonce, { appId: a.id, keyId: credential.keyId, rendered: false, until: Date.now() + REVEAL_COPY_WINDOW_MS });
    context.log.write('portal', `client secret added app=${a.appId} keyId=${credential.keyId} hint=${credential.hint} expires=${credential.endDateTime}`);
    return c.redirect(`/apps/${a.id}/credentials?tab=secrets&created=${nonce}`, 303);
  });

  app.post('/apps/:id/credentials/:keyId/delete', (c) => {
    const a = findApp(c.req.param('id'));
    if (!a) return c.notFound();
    const keyId = c.req.param('keyId');
    if (directory.removePassword(a, keyId)) context.log.write('portal', `client secret deleted app=${a.appId} keyId=${keyId}`);
    return c.redirect(`/apps/${a.id}/credentials?tab=secrets`, 303);
  });

  // The Copy buttons: the server writes the sandbox clipboard (the capture step reads it from there).
  app.post('/api/clipboard', async (c) => {
    const input = (await c.req.json().catch(() => ({}))) as { reveal?: unknown; keyId?: unknown };
    if (typeof input.reveal === 'string') {
      const reveal = reveals.get(input.reveal);
      if (!reveal || reveal.until < Date.now()) return c.json({ error: 'The secret value can no longer be copied.' }, 410);
      const credential = findApp(reveal.appId)?.passwordCredentials.find((p) => p.keyId === reveal.keyId);
      if (!credential) return c.json({ error: 'The secret no longer exists.' }, 404);
      context.clipboard.write(credential.value);
      context.log.write('portal', `copied secret value keyId=${credential.keyId} to clipboard`);
      return c.body(null, 204);
    }
    if (typeof input.keyId === 'string') {
      context.clipboard.write(input.keyId);
      return c.body(null, 204);
    }
    return c.json({ error: 'Unexpected clipboard request' }, 400);
  });

  return app;
}
