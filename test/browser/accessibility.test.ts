import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWeb } from '../../web/build.ts';
import { startTestApp, TEST_API_KEY, type TestApp } from '../helpers/app.ts';
import { dispatchAllFanouts } from '../../src/storage/queue/index.ts';
import { insertSampleEvents } from '../helpers/fixtures.ts';
import { launchBrowser, seriousViolations, type Browser, type Violation, showHeldDeliveryAndReplay } from './support.ts';

describe('accessibility of every page (axe-core in Chromium)', () => {
  let app: TestApp;
  let browser: Browser;
  let webhookId: string;
  let orderedId: string;

  beforeAll(async () => {
    await buildWeb({ ifStale: true });
    [app, browser] = await Promise.all([startTestApp('pglite', { role: 'api' }), launchBrowser()]);
    const created = await app.graphql('mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }', {
      input: { targetUrl: 'http://127.0.0.1:9/hook', operations: ['person.*'], description: 'CRM sync' },
    });
    webhookId = created.data.createWebhook.id;
    const workspaceId = (await app.graphql('{ currentWorkspace { id } }')).data.currentWorkspace.id;
    await insertSampleEvents(app.server.database.db, workspaceId, 2);
    const delivery = await app.server.database.db.selectFrom('deliveries').select('id').where('webhook_id', '=', webhookId).executeTakeFirstOrThrow();
    await app.server.database.db
      .insertInto('delivery_attempts')
      .values({
        id: randomUUID(),
        delivery_id: delivery.id,
        workspace_id: workspaceId,
        webhook_id: webhookId,
        number: 1,
        started_at: new Date(),
        duration_ms: 30,
        status_code: 503,
        response_body: 'unavailable',
        error: null,
        request_headers: JSON.stringify({ 'content-type': 'application/json' }),
      })
      .execute();
    // A filtered PER_RECORD webhook; with no worker in this app, its second delivery waits behind the first (held).
    const ordered = await app.graphql('mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }', {
      input: {
        targetUrl: 'http://127.0.0.1:9/ordered',
        operations: ['person.*'],
        filter: { or: [{ city: { eq: 'Paris' } }, { jobTitle: { like: '%CTO%' } }] },
        fields: ['email', 'city'],
        ordering: 'PER_RECORD',
      },
    });
    orderedId = ordered.data.createWebhook.id;
    const person = await app.graphql('mutation { createPerson(data: { firstName: "Ada", city: "Paris" }) { id } }');
    await app.graphql('mutation ($id: UUID!) { updatePerson(id: $id, data: { city: "Paris", email: "ada@a.org" }) { id } }', { id: person.data.createPerson.id });
    // This app runs no worker: turn the writes' fan-outs into their deliveries here, and none is sent.
    await dispatchAllFanouts(app.server.database.db);
  });

  afterAll(async () => {
    await Promise.all([browser?.close(), app?.close()]);
  });

  it('finds nothing serious or critical on any page', async () => {
    const page = await browser.context.newPage();
    const found: Record<string, Violation[]> = {};
    const audit = async (name: string) => {
      found[name] = await seriousViolations(page);
    };

    await page.goto(`${app.url}/settings/api-webhooks`);
    await page.getByRole('heading', { name: 'Sign in to Switchboard' }).waitFor();
    await audit('sign in');
    await page.getByLabel('API key').fill(TEST_API_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.url-link').first().waitFor();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await audit('list');

    await page.goto(`${app.url}/settings/api-webhooks/webhooks/new`);
    await page.getByRole('heading', { name: 'New webhook' }).waitFor();
    await audit('new webhook');

    await page.goto(`${app.url}/settings/api-webhooks/webhooks/${webhookId}`);
    await page.getByRole('img', { name: /Attempts per hour/ }).waitFor();
    await audit('overview');
    await page.getByRole('tab', { name: 'Deliveries' }).click();
    await page.locator('li.delivery button[aria-expanded]').nth(1).waitFor();
    for (const toggle of await page.locator('li.delivery button[aria-expanded]').all()) await toggle.click();
    await page.locator('.attempt').first().waitFor();
    await audit('deliveries, one expanded');
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByRole('button', { name: 'Rotate secret' }).waitFor();
    await audit('settings');

    await showHeldDeliveryAndReplay(page, `${app.url}/settings/api-webhooks/webhooks/${orderedId}`);
    await audit('held delivery and replay');
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByLabel('Value 2').waitFor();
    await audit('filter builder, changed fields and ordering');
    await page.getByRole('button', { name: 'JSON', exact: true }).click();
    await page.getByLabel('Filter JSON').fill('{ "not": { "city": { "eq": "Rome" } } }');
    await page.getByTestId('filter-note').waitFor();
    await audit('filter JSON view');

    await page.goto(`${app.url}/settings/api-webhooks/webhooks/${randomUUID()}`);
    await page.getByRole('heading', { name: 'Webhook not found' }).waitFor();
    await audit('not found');

    expect(Object.keys(found)).toHaveLength(10);
    expect(found).toEqual(Object.fromEntries(Object.keys(found).map((name) => [name, []])));
    await page.close();
  });

  it('finds nothing serious or critical on the data model pages', async () => {
    const invoice = await app.graphql(
      'mutation { createOneObject(input: { object: { nameSingular: "invoice", namePlural: "invoices", labelSingular: "Invoice", labelPlural: "Invoices" } }) { id } }',
    );
    const field = await app.graphql('mutation ($input: CreateOneFieldMetadataInput!) { createOneField(input: $input) { id } }', {
      input: { field: { objectMetadataId: invoice.data.createOneObject.id, type: 'SELECT', name: 'status', label: 'Status', options: [{ value: 'DRAFT', label: 'Draft' }] } },
    });
    expect(field.errors).toBeUndefined();
    const page = await browser.context.newPage();
    const found: Record<string, Violation[]> = {};
    const audit = async (name: string) => {
      found[name] = await seriousViolations(page);
    };
    await page.goto(`${app.url}/settings/data-model`);
    await page.getByLabel('API key').fill(TEST_API_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Invoices', exact: true }).waitFor();
    await audit('data model');
    await page.getByRole('button', { name: 'Create object' }).click();
    await page.locator('.field-error').first().waitFor();
    await audit('data model, refused object');

    await page.goto(`${app.url}/settings/data-model/invoice`);
    await page.getByRole('heading', { name: 'Invoices', level: 1 }).waitFor();
    await audit('object');
    const form = page.getByRole('form', { name: /Add a field to/ });
    await form.getByLabel('Type').selectOption('SELECT');
    await form.getByRole('button', { name: '+ Add option' }).click();
    await audit('new SELECT field with options');
    await form.getByLabel('Type').selectOption('RELATION');
    await form.getByLabel('Target object').waitFor();
    await audit('new RELATION field');
    await page.getByRole('button', { name: 'Edit Status' }).click();
    await page.getByRole('form', { name: 'Edit the field Status' }).waitFor();
    await audit('editing a field');
    await page.getByRole('button', { name: 'Deactivate Status' }).click();
    await page.getByRole('button', { name: 'Delete Status' }).click();
    await page.getByRole('dialog', { name: 'Delete this field?' }).waitFor();
    await audit('delete field dialog');
    await page.getByRole('dialog', { name: 'Delete this field?' }).getByRole('button', { name: 'Cancel' }).click();

    await page.goto(`${app.url}/settings/data-model/nothing`);
    await page.getByRole('heading', { name: 'Object not found' }).waitFor();
    await audit('object not found');

    expect(Object.keys(found)).toHaveLength(8);
    expect(found).toEqual(Object.fromEntries(Object.keys(found).map((name) => [name, []])));
    await page.close();
  });
});
