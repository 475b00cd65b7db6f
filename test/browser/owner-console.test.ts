import { sql } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildWeb } from '../../web/build.ts';
import { startTestApp, TEST_API_KEY, type TestApp } from '../helpers/app.ts';
import { eventually, startReceiver, type Receiver } from '../helpers/receiver.ts';
import {
  LAPTOP,
  PHONE,
  launchBrowser,
  screenshot,
  seriousViolations,
  startSwitchableReceiver,
  watchConsole,
  type Browser,
  type SwitchableReceiver,
  type Violation,
} from './support.ts';

const SEEDED = 10_000;

// Issue 17's "done when", walked as the owner of a webhook would: a failing receiver, its failures on screen, a
// 410 that disables it and is announced to a second webhook, the reason and the re-enable, one delivery found
// by record id among 10,000, every page at 390 px and under axe. The UI talks GraphQL only: PGlite is enough here.
describe("the webhook owner's console in Chromium", () => {
  let app: TestApp;
  let browser: Browser;
  let receiver: SwitchableReceiver;
  let pager: Receiver;

  beforeAll(async () => {
    await buildWeb({ ifStale: true });
    [app, browser, receiver, pager] = await Promise.all([
      // Six attempts within a second: deliveries fail for good while the test watches.
      startTestApp('pglite', { env: { SWITCHBOARD_RETRY_SCHEDULE: '50ms,50ms,50ms,50ms,50ms', SWITCHBOARD_DELIVERY_TIMEOUT: '2s' } }),
      launchBrowser(),
      startSwitchableReceiver(),
      startReceiver(),
    ]);
  });

  afterAll(async () => {
    await Promise.all([browser?.close(), app?.close(), receiver?.close(), pager?.close()]);
  });

  it('sees failures, hears of the 410 on a second webhook, re-enables, finds one delivery among 10,000, at every width', async () => {
    const db = app.server.database.db;
    const create = 'mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id secret } }';
    const crm = (await app.graphql(create, { input: { targetUrl: `${receiver.url}/crm`, operations: ['person.*'], description: 'CRM sync' } })).data.createWebhook;
    // The pager hears only of Switchboard's own event (the form offers it too: see webhook-page.test.ts).
    const pagerHook = (await app.graphql(create, { input: { targetUrl: `${pager.url}/ops`, operations: ['webhook.disabled'], description: 'On-call pager' } })).data.createWebhook;

    const page = await browser.context.newPage();
    const problems = watchConsole(page);
    const axe: Record<string, Violation[]> = {};
    const overflow: Record<string, number> = {};
    /** axe at laptop width, then the page's width at 390 px (how far it scrolls sideways; 0 is right). */
    const inspect = async (name: string, ready: (page: Page) => Promise<unknown>) => {
      axe[name] = await seriousViolations(page);
      await page.setViewportSize(PHONE);
      await ready(page);
      overflow[name] = await page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth));
      await page.setViewportSize(LAPTOP);
    };
    const openWebhook = async (id: string, tab: 'Overview' | 'Deliveries' | 'Settings' = 'Overview') => {
      await page.goto(`${app.url}/settings/api-webhooks/webhooks/${id}`);
      await page.getByRole('heading', { name: 'Overview' }).waitFor();
      if (tab !== 'Overview') await page.getByRole('tab', { name: tab }).click();
    };

    await page.goto(`${app.url}/settings/api-webhooks`);
    await page.getByLabel('API key').fill(TEST_API_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await page.locator('.url-link').nth(1).waitFor();

    // 1. The receiver fails: two records, six attempts each, both deliveries FAILED.
    receiver.respondWith(500, '{"error":"database is down"}');
    const ada = (await app.graphql('mutation { createPerson(data: { firstName: "Ada" }) { id } }')).data.createPerson.id as string;
    const grace = (await app.graphql('mutation { createPerson(data: { firstName: "Grace" }) { id } }')).data.createPerson.id as string;
    await receiver.waitForCount(12);
    await eventually(
      () => db.selectFrom('deliveries').select('status').where('webhook_id', '=', crm.id).execute(),
      (rows) => rows.length === 2 && rows.every((row) => row.status === 'FAILED'),
    );

    await openWebhook(crm.id);
    await page.getByRole('img', { name: /Attempts per hour over the last 24 hours: 12 attempts, 12 failed/ }).waitFor();
    await screenshot(page, 'webhook-overview');
    await inspect('overview with failures', (p) => p.getByRole('img', { name: /Attempts per hour/ }).waitFor());
    await page.getByRole('tab', { name: 'Deliveries' }).click();
    await page.locator('li.delivery[data-status="FAILED"]').nth(1).waitFor();
    expect(await page.locator('li.delivery').count()).toBe(2);
    const failedRow = page.locator('li.delivery').first();
    await failedRow.getByText('HTTP 500').waitFor();
    await failedRow.getByText('6 attempts').waitFor();
    await failedRow.locator('button[aria-expanded]').click();
    await failedRow.getByText('"error": "database is down"').first().waitFor();
    expect(await failedRow.locator('.attempt').count()).toBe(6);
    await inspect('failed deliveries, one expanded', (p) => p.locator('.attempt').first().waitFor());

    // 2. The receiver answers 410: the webhook is disabled and the pager is told, signed with its own secret.
    receiver.respondWith(410, '');
    await app.graphql('mutation { createPerson(data: { firstName: "Linus" }) { id } }');
    await pager.waitForCount(1);
    const [told] = pager.requests;
    const announced = new Webhook(pagerHook.secret).verify(told!.body, {
      'webhook-id': String(told!.headers['webhook-id']),
      'webhook-timestamp': String(told!.headers['webhook-timestamp']),
      'webhook-signature': String(told!.headers['webhook-signature']),
    }) as { operation: string; webhookId: string; record: Record<string, unknown> };
    expect(announced).toMatchObject({
      operation: 'webhook.disabled',
      webhookId: pagerHook.id,
      record: { id: crm.id, targetUrl: `${receiver.url}/crm`, description: 'CRM sync', status: 'DISABLED', disabledReason: 'GONE_410' },
    });

    await openWebhook(crm.id);
    const banner = page.getByRole('region', { name: 'Why this webhook is disabled' });
    await banner.getByText('The receiver answered 410 Gone').waitFor();
    await screenshot(page, 'webhook-disabled');
    await inspect('disabled, with its reason', (p) => banner.getByRole('button', { name: 'Enable again' }).waitFor());

    // The pager's own log shows the webhook.disabled delivery, found by the disabled webhook's id.
    await openWebhook(pagerHook.id, 'Deliveries');
    const pagerDelivery = page.locator('li.delivery[data-status="SUCCEEDED"]');
    await pagerDelivery.locator('code.operation', { hasText: 'webhook.disabled' }).waitFor();
    await inspect('the pager webhook', () => pagerDelivery.waitFor());

    // 3. Enable again, with the receiver fixed: the next record is delivered.
    receiver.respondWith(200, '{"ok":true}');
    await openWebhook(crm.id);
    await banner.getByRole('button', { name: 'Enable again' }).click();
    await banner.waitFor({ state: 'hidden' });
    expect((await app.graphql('query ($id: UUID!) { webhook(id: $id) { status disabledReason } }', { id: crm.id })).data.webhook).toEqual({
      status: 'ACTIVE',
      disabledReason: null,
    });
    const sentBefore = receiver.requests.length;
    await app.graphql('mutation { createPerson(data: { firstName: "Margaret" }) { id } }');
    await receiver.waitForCount(sentBefore + 1);
    expect(JSON.parse(receiver.requests[sentBefore]!.body).record.firstName).toBe('Margaret');

    // 4. Ten thousand older deliveries, written straight into storage, each of another record.
    const workspaceId = app.server.bootstrap.workspaceId;
    await sql`
      INSERT INTO events (id, workspace_id, operation, record_id, record, created_at)
      SELECT md5('owner-event' || n)::uuid, ${workspaceId}::uuid, 'person.updated', md5('owner-record' || n)::uuid, '{}'::json,
             now() - interval '1 hour' - (n || ' seconds')::interval
      FROM generate_series(1, ${SEEDED}) AS n
    `.execute(db);
    await sql`
      INSERT INTO deliveries (id, workspace_id, webhook_id, event_id, operation, status, attempt_count, created_at, updated_at)
      SELECT md5('owner-delivery' || n)::uuid, ${workspaceId}::uuid, ${crm.id}::uuid, md5('owner-event' || n)::uuid, 'person.updated',
             'SUCCEEDED', 1, now() - interval '1 hour' - (n || ' seconds')::interval, now()
      FROM generate_series(1, ${SEEDED}) AS n
    `.execute(db);
    const deliveryOf = (recordId: string) =>
      db.selectFrom('deliveries as d').innerJoin('events as e', 'e.id', 'd.event_id')
        .select(['d.id', 'd.event_id as eventId']).where('d.webhook_id', '=', crm.id).where('e.record_id', '=', recordId).executeTakeFirstOrThrow();
    const graceDelivery = await deliveryOf(grace);
    const adaDelivery = await deliveryOf(ada);

    await openWebhook(crm.id, 'Deliveries');
    await page.getByText(`${SEEDED + 4} deliveries.`, { exact: false }).waitFor();
    await page.getByLabel('Record id').fill(grace);
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByText('1 delivery.', { exact: false }).waitFor();
    const found = page.locator(`li.delivery[data-delivery-id="${graceDelivery.id}"]`);
    await found.waitFor();
    expect(await page.locator('li.delivery').count()).toBe(1);
    expect(await found.getAttribute('data-status')).toBe('FAILED');
    await found.locator('button[aria-expanded]').click();
    await found.locator('code', { hasText: graceDelivery.eventId }).first().waitFor();
    // Another record finds its own delivery instead.
    await page.getByLabel('Record id').fill(ada);
    await page.getByRole('button', { name: 'Find' }).click();
    await page.locator(`li.delivery[data-delivery-id="${adaDelivery.id}"]`).waitFor();
    expect(await page.locator('li.delivery').count()).toBe(1);
    await inspect('one delivery found by record id', (p) => p.locator('li.delivery').first().waitFor());

    // 5. The other pages of the console.
    await openWebhook(crm.id, 'Settings');
    await page.getByRole('button', { name: 'Rotate secret' }).waitFor();
    await inspect('settings', (p) => p.getByRole('button', { name: 'Rotate secret' }).waitFor());
    await page.goto(`${app.url}/settings/api-webhooks`);
    await page.getByRole('img', { name: /Last 24 hours: \d+ attempts/ }).first().waitFor();
    await inspect('list with sparklines', (p) => p.locator('.url-link').first().waitFor());
    await page.goto(`${app.url}/settings/api-webhooks/webhooks/new`);
    await page.getByRole('heading', { name: 'New webhook' }).waitFor();
    await inspect('new webhook', (p) => p.getByLabel('Endpoint URL').waitFor());

    expect(Object.keys(axe)).toHaveLength(8);
    expect(axe).toEqual(Object.fromEntries(Object.keys(axe).map((name) => [name, []])));
    expect(overflow).toEqual(Object.fromEntries(Object.keys(axe).map((name) => [name, 0])));
    expect(problems).toEqual([]);
    await page.close();
  }, 240_000);
});
