import { expect, test } from './fixtures.ts';

test.use({ sandboxComponents: 'identity', permissions: ['clipboard-read', 'clipboard-write'] });

test('an operator creates a client secret, copies its value once, and deletes the old secret', async ({ page, sandbox }) => {
  const tenant = sandbox.context.tenant;
  if (!tenant) throw new Error('the sandbox has no tenant');
  const oldKeyId = tenant.credentials()[0]?.keyId;

  await page.goto(sandbox.facts.portal as string);
  await expect(page.getByLabel('Tenant')).toContainText('Curate-Me');
  await page.getByRole('link', { name: 'App registrations' }).click();
  await page.getByRole('link', { name: 'Curate-Me Agent Identity' }).click();
  await page.getByRole('link', { name: 'Certificates & secrets' }).click();
  await page.getByRole('tab', { name: 'Client secrets' }).click();
  await page.getByRole('button', { name: '+ New client secret' }).click();

  const panel = page.getByRole('dialog', { name: 'Add a client secret' });
  await panel.getByLabel('Description').fill('graph-secret-2026-12');
  await panel.getByLabel('Expires').selectOption({ label: '180 days (6 months)' });
  await panel.getByRole('button', { name: 'Add' }).click();

  const rows = page.getByRole('table', { name: 'Client secrets' }).getByRole('row');
  const newRow = rows.filter({ hasText: 'graph-secret-2026-12' });
  await expect(newRow).toHaveCount(1);
  const created = tenant.credentials().find((c) => c.displayName === 'graph-secret-2026-12');
  if (!created) throw new Error('the portal did not create the secret');
  const expectedExpiry = new Date(Date.parse(created.startDateTime) + 180 * 86_400_000).toLocaleDateString('en-US', { timeZone: 'UTC' });
  await expect(newRow).toContainText(expectedExpiry);
  await expect(newRow).toContainText(created.keyId);
  await expect(newRow).toContainText(created.value);

  await newRow.getByRole('button', { name: 'Copy to clipboard' }).click();
  await expect(page.getByRole('status')).toHaveText('Copied');
  expect(sandbox.context.clipboard.read()).toBe(created.value);

  // The value is shown once: after a reload only its hint is visible.
  await page.reload();
  await expect(page.getByRole('table', { name: 'Client secrets' })).not.toContainText(created.value);
  await expect(rows.filter({ hasText: 'graph-secret-2026-12' })).toContainText(`${created.hint}***`);

  const oldRow = rows.filter({ hasText: 'graph-secret-2026-06' });
  await oldRow.getByRole('button', { name: 'Delete' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete client secret' });
  await expect(confirm).toContainText('graph-secret-2026-06');
  await confirm.getByRole('button', { name: 'Delete' }).click();

  await expect(rows.filter({ hasText: 'graph-secret-2026-06' })).toHaveCount(0);
  await expect(rows.filter({ hasText: 'graph-secret-2026-12' })).toHaveCount(1);
  expect(tenant.credentials().map((c) => c.keyId)).toEqual([created.keyId]);
  expect(tenant.credentials().map((c) => c.keyId)).not.toContain(oldKeyId);
});

test('Cancel in the delete confirmation keeps the secret', async ({ page, sandbox }) => {
  const before = sandbox.context.tenant?.credentials().length ?? 0;
  await page.goto(`${sandbox.facts.portal}/apps/${sandbox.facts['app-object-id']}/credentials?tab=secrets`);
  const rows = page.getByRole('table', { name: 'Client secrets' }).getByRole('row');
  await rows.nth(1).getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: 'Delete client secret' }).getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  expect(sandbox.context.tenant?.credentials().length).toBe(before);
});
