import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildWeb } from '../../web/build.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { eventually } from '../helpers/receiver.ts';
import { LAPTOP, PHONE, launchBrowser, overflowsSideways, seriousViolations, startSwitchableReceiver, type Browser, type SwitchableReceiver, openSignedInPage } from './support.ts';

const WEBHOOK = 'query ($id: UUID!) { webhook(id: $id) { operations status disabledReason disabledAt } }';
const CREATE = 'mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }';

/** A datetime-local value in the browser's zone (the test's, the same machine), to the second. */
function local(date: Date): string {
  const pad = (part: number) => String(part).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

// Switchboard events in the form, "Saved" after an edit, the disabled banner appearing without a reload and its
// replay of what was missed. The UI talks GraphQL only: PGlite is enough here.
describe('the webhook page in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let receiver: SwitchableReceiver;

  beforeAll(async () => {
    await buildWeb({ ifStale: true });
    [app, browser, receiver] = await Promise.all([
      startTestApp('pglite', { env: { SWITCHBOARD_RETRY_SCHEDULE: '50ms,50ms' } }),
      launchBrowser(),
      startSwitchableReceiver(),
    ]);
  });

  afterAll(async () => {
    await Promise.all([browser?.close(), app?.close(), receiver?.close()]);
  });

  const openSignedIn = (path: string) => openSignedInPage(browser, `${app.url}${path}`);

  const webhookOf = async (id: string) => (await app.graphql(WEBHOOK, { id })).data.webhook;

  /** No serious axe finding at laptop width, and nothing wider than 390 px at phone width. */
  async function checkPage(page: Page): Promise<void> {
    expect(await seriousViolations(page)).toEqual([]);
    await page.setViewportSize(PHONE);
    expect(await overflowsSideways(page)).toBe(false);
    await page.setViewportSize(LAPTOP);
  }

  it('subscribes to Switchboard events as whole entries, shows them again, and says Saved after an edit', async () => {
    const { page, problems } = await openSignedIn('/settings/api-webhooks/webhooks/new');
    await page.getByRole('heading', { name: 'New webhook' }).waitFor();
    await page.getByLabel('Endpoint URL').fill(`${receiver.url}/pager`);
    const own = page.getByRole('group', { name: 'Switchboard events' });
    await own.getByText('never include them').waitFor();
    // The only row cannot go while nothing else is chosen.
    expect(await page.getByRole('button', { name: 'Remove event row 1' }).isDisabled()).toBe(true);
    await own.getByRole('checkbox', { name: /Webhook disabled/ }).check();
    await page.getByRole('button', { name: 'Remove event row 1' }).click();
    expect(await page.getByLabel('Object 1').count()).toBe(0);
    await checkPage(page);
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByRole('link', { name: /open the webhook/ }).click();
    const id = new URL(page.url()).pathname.split('/').pop()!;
    expect((await webhookOf(id)).operations).toEqual(['webhook.disabled']);

    // Reopened: the entry is checked, not shown as an object "webhook" and an action "disabled".
    await page.reload();
    await page.getByRole('tab', { name: 'Settings' }).click();
    await own.getByRole('checkbox', { name: /Webhook disabled/ }).waitFor();
    expect(await own.getByRole('checkbox', { name: /Webhook disabled/ }).isChecked()).toBe(true);
    expect(await own.getByRole('checkbox', { name: /Delivery failed/ }).isChecked()).toBe(false);
    expect(await page.getByLabel('Object 1').count()).toBe(0);

    // An edit: the form stays, says Saved, and shows what was saved.
    await own.getByRole('checkbox', { name: /Delivery failed/ }).check();
    await page.getByRole('button', { name: /Add event/ }).click();
    await page.getByLabel('Object 1').selectOption('person');
    await page.getByLabel('Action 1').selectOption('updated');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('.form-actions [role="status"]').getByText('Saved').waitFor();
    expect((await webhookOf(id)).operations).toEqual(['person.updated', 'webhook.disabled', 'delivery.failed']);
    expect(await own.getByRole('checkbox', { name: /Delivery failed/ }).isChecked()).toBe(true);
    expect(await page.getByLabel('Action 1').inputValue()).toBe('updated');
    await checkPage(page);

    // Unchecking every entry with no row left brings a row back: the webhook always keeps an event. Editing again
    // takes "Saved" away.
    await page.getByRole('button', { name: 'Remove event row 1' }).click();
    expect(await page.locator('.form-actions [role="status"]').textContent()).toBe('');
    await own.getByRole('checkbox', { name: /Webhook disabled/ }).uncheck();
    await own.getByRole('checkbox', { name: /Delivery failed/ }).uncheck();
    expect(await page.getByLabel('Object 1').inputValue()).toBe('*');

    // The list names them as the form does.
    await page.goto(`${app.url}/settings/api-webhooks`);
    const row = page.getByRole('row', { name: /\/pager/ });
    await row.getByText('Webhook disabled').waitFor();
    await row.getByText('Delivery failed').waitFor();
    await row.getByText('Person · Updated').waitFor();
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows the disabled banner without a reload, and replays what was missed from it', async () => {
    receiver.respondWith(200, '{"ok":true}');
    const id = (await app.graphql(CREATE, { input: { targetUrl: `${receiver.url}/crm`, operations: ['person.created'] } })).data.createWebhook.id as string;
    const { page, problems } = await openSignedIn(`/settings/api-webhooks/webhooks/${id}`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    const statusQueries: number[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/graphql') && request.postData()?.includes('query Webhook(')) statusQueries.push(Date.now());
    });
    const watchingSince = Date.now();

    // The receiver answers 410 while the page is open: Switchboard disables the webhook in the background.
    receiver.respondWith(410, '');
    await app.graphql('mutation { createPerson(data: { firstName: "Linus" }) { id } }');
    const disabled = await eventually(() => webhookOf(id), (webhook) => webhook.status === 'DISABLED');
    expect(disabled.disabledReason).toBe('GONE_410');
    const banner = page.getByRole('region', { name: 'Why this webhook is disabled' });
    await banner.getByText('The receiver answered 410 Gone').waitFor({ timeout: 10_000 });
    await page.locator('.status-toggle').getByText('Disabled').waitFor();
    // One small query per tick of a few seconds, not one per part of the page.
    expect(statusQueries.length).toBeGreaterThan(0);
    expect(statusQueries.length).toBeLessThanOrEqual(Math.ceil((Date.now() - watchingSince) / 3000) + 1);

    // Written while disabled: not sent.
    const katherine = (await app.graphql('mutation { createPerson(data: { firstName: "Katherine" }) { id } }')).data.createPerson.id as string;
    await banner.getByRole('button', { name: 'Replay what was missed' }).click();
    expect(await page.getByRole('tab', { name: 'Deliveries' }).getAttribute('aria-selected')).toBe('true');
    const panel = page.getByRole('region', { name: 'Replay events' });
    expect(await panel.getByLabel('From').inputValue()).toBe(local(new Date(disabled.disabledAt)));
    expect(await panel.getByLabel('Until').inputValue()).toBe('');
    expect(await panel.getByLabel('From').evaluate((input) => input === document.activeElement)).toBe(true);
    expect(await panel.getByRole('button', { name: 'Replay events' }).isDisabled()).toBe(true);
    await checkPage(page);

    // Enabled again, the prefilled window replays Katherine's event to the fixed receiver.
    receiver.respondWith(200, '{"ok":true}');
    await banner.getByRole('button', { name: 'Enable again' }).click();
    await banner.waitFor({ state: 'hidden' });
    // Back on the tab later, the window is still the one asked for; the focus is not taken again.
    await page.getByRole('tab', { name: 'Overview' }).click();
    await page.getByRole('tab', { name: 'Deliveries' }).click();
    expect(await panel.getByLabel('From').inputValue()).toBe(local(new Date(disabled.disabledAt)));
    expect(await panel.getByLabel('From').evaluate((input) => input === document.activeElement)).toBe(false);
    const sentBefore = receiver.requests.length;
    await panel.getByRole('button', { name: 'Replay events' }).click();
    await panel.getByText(/Queued \d+ deliver/).waitFor();
    const bodies = await eventually(
      async () => receiver.requests.slice(sentBefore).map((request) => JSON.parse(request.body) as { id: string; record: { id: string } }),
      (list) => list.some((body) => body.record.id === katherine),
    );
    const event = await app.server.database.db.selectFrom('events').select('id').where('record_id', '=', katherine).executeTakeFirstOrThrow();
    expect(bodies.filter((body) => body.record.id === katherine).map((body) => body.id)).toEqual([event.id]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
