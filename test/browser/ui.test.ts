import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildWeb } from '../../web/build.ts';
import { startTestApp, TEST_API_KEY, type TestApp } from '../helpers/app.ts';
import {
  LAPTOP,
  PHONE,
  launchBrowser,
  overflowsSideways,
  screenshot,
  startSwitchableReceiver,
  twentySignatureMatches,
  watchConsole,
  type Browser,
  type SwitchableReceiver,
} from './support.ts';

// The UI talks GraphQL only, so one database kind is enough here: the API's own suites cover both.
describe('web UI in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let receiver: SwitchableReceiver;

  beforeAll(async () => {
    await buildWeb({ ifStale: true });
    [app, browser, receiver] = await Promise.all([startTestApp('pglite'), launchBrowser(), startSwitchableReceiver()]);
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url });
  });

  afterAll(async () => {
    await Promise.all([browser?.close(), app?.close(), receiver?.close()]);
  });

  async function signIn(page: Page, key = TEST_API_KEY): Promise<void> {
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  const deliveryItem = (page: Page, eventId: string) => page.locator(`li.delivery:has(code:text-is("${eventId}"))`);

  it('walks through sign-in, creating a webhook, its delivery log, resend, test, rotate, disable and delete', async () => {
    const page = await browser.context.newPage();
    const problems = watchConsole(page);

    // Sign in: a deep link asks for a key first, then lands where it pointed.
    await page.goto(`${app.url}/settings/api-webhooks`);
    await page.getByRole('heading', { name: 'Sign in to Switchboard' }).waitFor();
    await screenshot(page, 'sign-in');
    await signIn(page);
    await page.getByRole('heading', { name: 'API & Webhooks', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/settings/api-webhooks');
    await page.getByText('No webhooks yet.').waitFor();

    // Create: the server's validation message appears next to the field.
    await page.getByRole('link', { name: /Create Webhook/ }).click();
    await page.getByRole('heading', { name: 'New webhook' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/settings/api-webhooks/webhooks/new');
    await page.getByLabel('Endpoint URL').fill('ftp://example.com/hooks');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByText('must use http: or https:').waitFor();
    expect(await page.getByLabel('Endpoint URL').getAttribute('aria-invalid')).toBe('true');

    const targetUrl = `${receiver.url}/hooks`;
    await page.getByLabel('Endpoint URL').fill(targetUrl);
    await page.getByLabel('Description').fill('CRM sync');
    await page.getByLabel('Object 1').selectOption('person');
    await page.getByLabel('Action 1').selectOption('created');
    await page.getByRole('button', { name: /Add event/ }).click();
    await page.getByLabel('Object 2').selectOption('company');
    await page.getByLabel('Action 2').selectOption('*');
    await screenshot(page, 'webhook-new');
    await page.getByRole('button', { name: 'Create webhook' }).click();

    // The secret is shown once, with a warning and a copy button that really copies it.
    await page.getByRole('heading', { name: 'Signing secret' }).waitFor();
    await page.getByText('it is shown only this once').waitFor();
    const secret = (await page.getByTestId('one-time-secret').textContent())!.trim();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(secret);
    await screenshot(page, 'webhook-secret');

    const listed = await app.graphql('{ webhooks { id targetUrl operations description status } }');
    expect(listed.data.webhooks).toEqual([
      expect.objectContaining({ targetUrl, operations: ['person.created', 'company.*'], description: 'CRM sync', status: 'ACTIVE' }),
    ]);
    const webhookId: string = listed.data.webhooks[0].id;

    await page.getByRole('link', { name: /open the webhook/ }).click();
    await page.getByRole('heading', { name: targetUrl, level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/settings/api-webhooks/webhooks/${webhookId}`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('tab', { name: 'Deliveries' }).click();
    await page.getByText('No deliveries yet.').waitFor();

    // A record written through the API shows up in the log, with what was sent and what came back.
    receiver.respondWith(200, '{"received":"ada"}');
    const ada = await app.graphql('mutation { createPerson(data: { firstName: "Ada" }) { id } }');
    expect(ada.errors).toBeUndefined();
    await receiver.waitForCount(1);
    expect(twentySignatureMatches(receiver.requests[0]!, copied)).toBe(true);
    const adaEvent = JSON.parse(receiver.requests[0]!.body) as { id: string; operation: string };
    expect(adaEvent.operation).toBe('person.created');

    const adaItem = deliveryItem(page, adaEvent.id);
    // Event ids are inside the collapsed details: find the row by its operation first (it refreshes by itself).
    await page.locator('li.delivery[data-status="SUCCEEDED"]').first().waitFor({ timeout: 15_000 });
    await page.locator('li.delivery button[aria-expanded]').first().click();
    await adaItem.waitFor();
    await adaItem.getByText('HTTP 200').first().waitFor();
    await adaItem.getByText('"firstName": "Ada"').waitFor();
    await adaItem.getByText('"received": "ada"').waitFor();
    await adaItem.getByText('Request headers').click();
    await adaItem.getByText(/^x-twenty-signature$/i).waitFor();

    // The receiver fails: the next delivery shows the 500 and its body; Resend after the fix succeeds.
    receiver.respondWith(500, '{"error":"database is down"}');
    await app.graphql('mutation { createPerson(data: { firstName: "Grace" }) { id } }');
    await receiver.waitForCount(2);
    const graceEvent = JSON.parse(receiver.requests[1]!.body) as { id: string };
    await page.locator('li.delivery').nth(1).waitFor({ timeout: 15_000 });
    const graceRow = page.locator('li.delivery').first();
    await graceRow.getByText('HTTP 500').waitFor({ timeout: 15_000 });
    await graceRow.getByText('Pending').waitFor();
    await graceRow.locator('button[aria-expanded]').click();
    const graceItem = deliveryItem(page, graceEvent.id);
    await graceItem.getByText('"error": "database is down"').waitFor();
    await graceItem.getByText('Next attempt').waitFor();
    await screenshot(page, 'webhook-detail');

    receiver.respondWith(200, '{"received":"grace"}');
    await graceItem.getByRole('button', { name: 'Resend person.created delivery' }).click();
    await receiver.waitForCount(3);
    expect(JSON.parse(receiver.requests[2]!.body).id).toBe(graceEvent.id);
    await graceItem.locator('[data-attempt="2"]').getByText('HTTP 200').waitFor({ timeout: 15_000 });
    await graceItem.getByText('Succeeded').waitFor({ timeout: 15_000 });
    await graceItem.getByText('2 attempts').waitFor();

    // Send a test event and see what the endpoint answered.
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByLabel('Test event', { exact: true }).selectOption('company.updated');
    await page.getByRole('button', { name: 'Send test event' }).click();
    const testResult = page.getByTestId('test-result');
    await testResult.getByText('Test company.updated').waitFor();
    await testResult.getByText('HTTP 200').waitFor();
    await testResult.getByText('"received": "grace"').waitFor();

    // Rotate: a new secret is shown once and signs what is sent from now on.
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const rotateDialog = page.getByRole('dialog', { name: 'Rotate the signing secret?' });
    await rotateDialog.getByRole('button', { name: 'Rotate' }).click();
    await page.getByRole('heading', { name: 'New signing secret' }).waitFor();
    const rotated = (await page.getByTestId('one-time-secret').textContent())!.trim();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    const beforeTest = receiver.requests.length;
    await page.getByRole('button', { name: 'Send test event' }).click();
    await receiver.waitForCount(beforeTest + 1);
    expect(twentySignatureMatches(receiver.requests[beforeTest]!, rotated)).toBe(true);

    // Disable and enable again.
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Enable', exact: true }).waitFor();
    expect((await app.graphql(`{ webhook(id: "${webhookId}") { status } }`)).data.webhook.status).toBe('DISABLED');
    await page.getByRole('button', { name: 'Enable', exact: true }).click();
    await page.getByRole('button', { name: 'Disable' }).waitFor();
    expect((await app.graphql(`{ webhook(id: "${webhookId}") { status } }`)).data.webhook.status).toBe('ACTIVE');
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('button', { name: 'Enable', exact: true }).waitFor();

    // The list shows URL, operations, status and the last delivery's outcome.
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'API & Webhooks' }).click();
    const row = page.getByRole('row', { name: new RegExp(targetUrl.replace(/[.?*+^$[\]\\(){}|-]/g, '\\$&')) });
    await row.getByText('Person · Created').waitFor();
    await row.getByText('Company · All').waitFor();
    await row.getByText('Disabled').waitFor();
    await row.getByText('Succeeded').waitFor();
    await row.getByRole('img', { name: /Last 24 hours: \d+ attempts/ }).waitFor();
    await screenshot(page, 'api-webhooks');

    // Phone width: nothing overflows sideways.
    await page.setViewportSize(PHONE);
    expect(await overflowsSideways(page)).toBe(false);
    await screenshot(page, 'api-webhooks-phone');
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: targetUrl, level: 1 }).waitFor();
    await page.getByRole('tab', { name: 'Deliveries' }).click();
    await page.locator('li.delivery').first().waitFor();
    expect(await overflowsSideways(page)).toBe(false);
    await screenshot(page, 'webhook-detail-phone');
    await page.setViewportSize(LAPTOP);

    // The overview counts the attempts made above, failures included.
    await page.getByRole('tab', { name: 'Overview' }).click();
    await page.getByRole('img', { name: /Attempts per hour over the last 24 hours: \d+ attempts, [1-9]\d* failed/ }).waitFor();
    await page.getByRole('tab', { name: 'Settings' }).click();

    // Delete, after a confirmation.
    await page.getByRole('button', { name: 'Delete webhook' }).click();
    await page.getByRole('dialog', { name: 'Delete this webhook?' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { name: 'API & Webhooks', level: 1 }).waitFor();
    await page.getByText('No webhooks yet.').waitFor();
    expect((await app.graphql('{ webhooks { id } }')).data.webhooks).toEqual([]);

    expect(problems).toEqual([]);
    await page.close();
  });

  it('creates an API key shown once, revokes it by keyboard, and a revoked key cannot sign in', async () => {
    const page = await browser.context.newPage();
    const problems = watchConsole(page);
    await page.goto(app.url);
    await signIn(page);
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    // The key this session signed in with was used just now, and says so.
    await page.locator('td[data-label="Last used"] time').getByText(/just now|min ago/).first().waitFor();

    await page.getByLabel('New key name').fill('Zapier');
    await page.getByRole('button', { name: 'Create API key' }).click();
    await page.getByRole('heading', { name: 'API key “Zapier” created' }).waitFor();
    const key = (await page.getByTestId('one-time-secret').textContent())!.trim();
    expect((await app.graphql('{ currentWorkspace { name } }', {}, key)).data.currentWorkspace.name).toBe('default');
    await page.getByRole('button', { name: 'Copy' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
    await page.getByRole('button', { name: 'Done' }).click();
    expect(await page.getByTestId('one-time-secret').count()).toBe(0);

    // Keyboard only: Escape cancels the dialog, Enter on the focused button confirms.
    const revoke = page.getByRole('button', { name: 'Revoke API key Zapier' });
    await revoke.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Revoke this API key?' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect((await app.graphql('{ apiKeys { name revokedAt } }')).data.apiKeys.find((k: { name: string }) => k.name === 'Zapier').revokedAt).toBeNull();
    await revoke.focus();
    await page.keyboard.press('Enter');
    await dialog.getByRole('button', { name: 'Revoke' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('row', { name: /Zapier/ }).getByText('Revoked').waitFor();
    expect((await app.graphql('{ currentWorkspace { name } }', {}, key)).status).toBe(401);
    expect(problems).toEqual([]);

    // Signing in with the revoked key is refused with the server's message.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, key);
    await page.getByRole('alert').getByText('not valid').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('switchboard.apiKey'))).toBeNull();
    await page.close();
  });
  it('shows why a webhook is disabled, with a one-click re-enable', async () => {
    const created = await app.graphql(`mutation { createWebhook(input: { targetUrl: "${receiver.url}/gone" }) { id } }`);
    const id = created.data.createWebhook.id as string;
    const disabled = await app.graphql('mutation ($id: UUID!) { updateWebhook(input: { id: $id, status: DISABLED }) { disabledReason } }', { id });
    expect(disabled.data.updateWebhook.disabledReason).toBe('BY_USER');
    const page = await browser.context.newPage();
    const problems = watchConsole(page);
    await page.goto(`${app.url}/settings/api-webhooks/webhooks/${id}`);
    await signIn(page);
    const banner = page.getByRole('region', { name: 'Why this webhook is disabled' });
    await banner.getByText('Someone disabled it.').waitFor();
    await banner.getByRole('button', { name: 'Enable again' }).click();
    await banner.waitFor({ state: 'hidden' });
    const after = await app.graphql('query ($id: UUID!) { webhook(id: $id) { status disabledReason } }', { id });
    expect(after.data.webhook).toEqual({ status: 'ACTIVE', disabledReason: null });
    await app.graphql('mutation ($id: UUID!) { deleteWebhook(id: $id) { id } }', { id });
    expect(problems).toEqual([]);
    await page.close();
  });

  it("lists the workspace's custom objects in the webhook form's object picker", async () => {
    const created = await app.graphql(
      'mutation { createOneObject(input: { object: { nameSingular: "invoice", namePlural: "invoices", labelSingular: "Invoice", labelPlural: "Invoices" } }) { id } }',
    );
    expect(created.errors).toBeUndefined();
    const page = await browser.context.newPage();
    const problems = watchConsole(page);
    await page.goto(`${app.url}/settings/api-webhooks/webhooks/new`);
    await signIn(page);
    await page.getByRole('heading', { name: 'New webhook' }).waitFor();
    // selectOption waits for the option: it appears once the workspace's objects have loaded.
    await page.getByLabel('Object 1').selectOption('invoice');
    expect(await page.getByLabel('Object 1').locator('option:checked').textContent()).toBe('Invoice');
    expect(problems).toEqual([]);
    await page.close();
  });
});
