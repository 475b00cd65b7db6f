import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildWeb } from '../../web/build.ts';
import { startTestApp, TEST_API_KEY, type TestApp } from '../helpers/app.ts';
import { dispatchAllFanouts } from '../../src/storage/queue/index.ts';
import { insertSampleEvents } from '../helpers/fixtures.ts';
import { PHONE, launchBrowser, type Browser, showHeldDeliveryAndReplay } from './support.ts';

// A receiver URL as long as a target may be, and a delivery whose headers and answer are long unbroken text.
describe('every page at phone width', () => {
  let app: TestApp;
  let browser: Browser;
  let targetUrl: string;
  let webhookId: string;
  let orderedId: string;

  beforeAll(async () => {
    await buildWeb({ ifStale: true });
    [app, browser] = await Promise.all([startTestApp('pglite', { role: 'api' }), launchBrowser()]);
    targetUrl = `http://127.0.0.1:9/hook?token=${'a'.repeat(1960)}`;
    const created = await app.graphql('mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }', {
      input: { targetUrl, operations: ['person.*'] },
    });
    expect(created.errors).toBeUndefined();
    webhookId = created.data.createWebhook.id;
    // A filtered PER_RECORD webhook whose second delivery waits behind the first (no worker here); written first, so
    // the sample delivery below stays the newest.
    const ordered = await app.graphql('mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }', {
      input: {
        targetUrl,
        operations: ['*.*'],
        filter: { or: [{ city: { eq: 'Paris' } }, { email: { ilike: `%@${'long-domain-'.repeat(8)}.example` } }] },
        fields: ['email'],
        ordering: 'PER_RECORD',
      },
    });
    expect(ordered.errors).toBeUndefined();
    orderedId = ordered.data.createWebhook.id;
    const person = await app.graphql('mutation { createPerson(data: { firstName: "Ada", city: "Paris" }) { id } }');
    await app.graphql('mutation ($id: UUID!) { updatePerson(id: $id, data: { email: "ada@a.org" }) { id } }', { id: person.data.createPerson.id });
    // This app runs no worker: turn the writes' fan-outs into their deliveries here, and none is sent.
    await dispatchAllFanouts(app.server.database.db);
    const workspaceId = (await app.graphql('{ currentWorkspace { id } }')).data.currentWorkspace.id;
    await insertSampleEvents(app.server.database.db, workspaceId, 1);
    const delivery = await app.server.database.db
      .selectFrom('deliveries').select('id').where('webhook_id', '=', webhookId).orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    await app.server.database.db
      .insertInto('delivery_attempts')
      .values({
        id: randomUUID(),
        delivery_id: delivery.id,
        workspace_id: workspaceId,
        webhook_id: webhookId,
        number: 1,
        started_at: new Date(),
        duration_ms: 12,
        status_code: 500,
        response_body: `{"error":"${'x'.repeat(3000)}"}`,
        error: null,
        request_headers: JSON.stringify({ 'webhook-signature': `v1,${'S'.repeat(400)} v1,${'T'.repeat(400)}`, 'x-long': 'y'.repeat(800) }),
      })
      .execute();
  });

  afterAll(async () => {
    await Promise.all([browser?.close(), app?.close()]);
  });

  const overflow = (page: Page) => page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));

  it('never scrolls sideways at 390 px, with a 2,000-character URL and an expanded delivery', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize(PHONE);
    await page.goto(`${app.url}/settings/api-webhooks`);
    await page.getByLabel('API key').fill(TEST_API_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'API & Webhooks', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await page.locator('.url-link').first().waitFor();
    const checked: string[] = [];
    const check = async (name: string) => {
      const { scrollWidth, innerWidth } = await overflow(page);
      expect(scrollWidth, name).toBeLessThanOrEqual(innerWidth);
      checked.push(name);
    };
    await check('list');
    // The long URL takes a few lines at most on the list.
    expect((await page.locator('.url-link').first().boundingBox())!.height).toBeLessThan(120);

    await page.goto(`${app.url}/settings/api-webhooks/webhooks/new`);
    await page.getByRole('heading', { name: 'New webhook' }).waitFor();
    await check('new webhook');

    await page.goto(`${app.url}/settings/api-webhooks/webhooks/${webhookId}`);
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await page.getByRole('img', { name: /Attempts per hour/ }).waitFor();
    await check('overview');
    await page.getByRole('tab', { name: 'Deliveries' }).click();
    await page.locator('li.delivery button[aria-expanded]').first().click();
    await page.getByText('Request headers').first().click();
    await page.locator('.headers').first().waitFor();
    await check('expanded delivery');
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('dialog', { name: 'Rotate the signing secret?' }).waitFor();
    await check('settings with the rotation dialog');
    await page.getByRole('button', { name: 'Cancel' }).click();

    await showHeldDeliveryAndReplay(page, `${app.url}/settings/api-webhooks/webhooks/${orderedId}`);
    await check('held delivery and replay');
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByLabel('Value 2').waitFor();
    await check('filter builder, changed fields and ordering');
    await page.getByRole('button', { name: 'JSON', exact: true }).click();
    await page.getByTestId('filter-note').or(page.getByLabel('Filter JSON')).first().waitFor();
    await check('filter JSON view');

    await page.goto(`${app.url}/settings/api-webhooks/webhooks/${randomUUID()}`);
    await page.getByRole('heading', { name: 'Webhook not found' }).waitFor();
    await check('not found');
    expect(checked).toHaveLength(9);
    await page.close();
  });

  it('never scrolls sideways at 390 px on the data model pages, with long names, labels and many options', async () => {
    const long = 'x'.repeat(63);
    const object = await app.graphql('mutation ($input: CreateOneObjectInput!) { createOneObject(input: $input) { id } }', {
      input: { object: { nameSingular: `a${long.slice(1)}`, namePlural: `b${long.slice(1)}`, labelSingular: 'L'.repeat(200), labelPlural: 'P'.repeat(200), description: 'd'.repeat(900) } },
    });
    expect(object.errors).toBeUndefined();
    const objectMetadataId = object.data.createOneObject.id;
    const options = Array.from({ length: 12 }, (_, index) => ({ value: `${'V'.repeat(60)}${index}`, label: 'o'.repeat(200), color: 'blue', position: index }));
    for (const field of [
      { type: 'MULTI_SELECT', name: `m${long.slice(1)}`, label: 'M'.repeat(250), description: 'e'.repeat(900), options },
      { type: 'RELATION', name: `r${long.slice(1, 60)}`, label: 'R', relationCreationPayload: { targetObjectMetadataId: objectMetadataId, type: 'MANY_TO_ONE' } },
    ]) {
      const created = await app.graphql('mutation ($input: CreateOneFieldMetadataInput!) { createOneField(input: $input) { id } }', {
        input: { field: { objectMetadataId, ...field } },
      });
      expect(created.errors).toBeUndefined();
    }
    const page = await browser.context.newPage();
    await page.setViewportSize(PHONE);
    await page.goto(`${app.url}/settings/data-model`);
    await page.getByLabel('API key').fill(TEST_API_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'People', exact: true }).waitFor();
    const checked: string[] = [];
    const check = async (name: string) => {
      const { scrollWidth, innerWidth } = await overflow(page);
      const wide = await page.evaluate(() =>
        [...document.querySelectorAll('body *')]
          .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 1)
          .filter((element) => ![...element.children].some((child) => child.getBoundingClientRect().right > window.innerWidth + 1))
          .slice(0, 8)
          .map((element) => `${element.tagName}.${element.className}`),
      );
      expect(scrollWidth, `${name}: ${wide.join(' ')}`).toBeLessThanOrEqual(innerWidth);
      checked.push(name);
    };
    await check('data model');
    await page.goto(`${app.url}/settings/data-model/a${long.slice(1)}`);
    await page.getByRole('heading', { name: 'P'.repeat(200), level: 1 }).waitFor();
    await check('object with long names');
    const form = page.getByRole('form', { name: /Add a field to/ });
    await form.getByLabel('Type').selectOption('SELECT');
    for (let index = 0; index < 3; index++) await form.getByRole('button', { name: '+ Add option' }).click();
    await check('new SELECT field');
    await form.getByLabel('Type').selectOption('RELATION');
    await check('new RELATION field');
    await page.getByRole('button', { name: `Edit ${'M'.repeat(250)}` }).click();
    await page.getByRole('form', { name: /Edit the field/ }).waitFor();
    await check('editing a MULTI_SELECT field with 12 options');
    expect(checked).toHaveLength(5);
    await page.close();
  });
});
