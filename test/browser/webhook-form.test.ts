import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { buildWeb } from '../../web/build.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { eventually } from '../helpers/receiver.ts';
import { launchBrowser, screenshot, startSwitchableReceiver, type Browser, type SwitchableReceiver, openSignedInPage } from './support.ts';

const WEBHOOK = 'query ($id: UUID!) { webhook(id: $id) { filter fields ordering } }';

// The UI talks GraphQL only, so one database kind is enough here: the API's own suites cover both.
describe('webhook filter, changed fields, ordering, held deliveries and replay in Chromium', () => {
  let app: TestApp;
  let browser: Browser;
  let receiver: SwitchableReceiver;

  beforeAll(async () => {
    await buildWeb({ ifStale: true });
    // The default retry schedule (a minute first): a refused delivery stays pending, holding back the next.
    [app, browser, receiver] = await Promise.all([startTestApp('pglite'), launchBrowser(), startSwitchableReceiver()]);
  });

  afterAll(async () => {
    await Promise.all([browser?.close(), app?.close(), receiver?.close()]);
  });

  const openSignedIn = (path: string) => openSignedInPage(browser, `${app.url}${path}`);

  const webhookOf = async (id: string) => (await app.graphql(WEBHOOK, { id })).data.webhook;

  it('creates a webhook with a builder filter, a changed-fields pick and PER_RECORD, shows them again, and edits the filter as JSON', async () => {
    // A custom field appears among the fields the form offers.
    const objects = await app.graphql('{ objects(paging: { first: 100 }) { edges { node { id nameSingular } } } }');
    const personId = objects.data.objects.edges.find((edge: { node: { nameSingular: string } }) => edge.node.nameSingular === 'person').node.id;
    const field = await app.graphql('mutation ($input: CreateOneFieldMetadataInput!) { createOneField(input: $input) { id } }', {
      input: { field: { objectMetadataId: personId, type: 'NUMBER', name: 'loyaltyPoints', label: 'Loyalty points' } },
    });
    expect(field.errors).toBeUndefined();

    const { page, problems } = await openSignedIn('/settings/api-webhooks/webhooks/new');
    await page.getByRole('heading', { name: 'New webhook' }).waitFor();
    await page.getByLabel('Endpoint URL').fill(`${receiver.url}/sync`);
    await page.getByLabel('Object 1').selectOption('person');
    await page.getByLabel('Action 1').selectOption('*');

    // Two conditions joined with or, built from the person's fields.
    await page.getByRole('button', { name: '+ Add condition' }).click();
    await page.getByLabel('Field 1').selectOption('city');
    await page.getByLabel('Comparator 1').selectOption('eq');
    await page.getByLabel('Value 1').fill('Paris');
    await page.getByRole('button', { name: '+ Add condition' }).click();
    await page.getByLabel('Field 2').selectOption('email');
    await page.getByLabel('Comparator 2').selectOption('ilike');
    await page.getByLabel('Value 2').fill('%@acme.com');
    await page.getByLabel('Match').selectOption('or');
    // The custom field is offered, for the filter and for changed fields.
    expect(await page.getByLabel('Field 1').locator('option[value="loyaltyPoints"]').count()).toBe(1);
    await page.getByRole('checkbox', { name: /Loyalty points/ }).waitFor();
    await page.getByRole('checkbox', { name: /^Email/ }).check();
    await page.getByRole('radio', { name: /Per record, in commit order/ }).check();
    await screenshot(page, 'webhook-new-filter');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByRole('link', { name: /open the webhook/ }).click();
    const id = new URL(page.url()).pathname.split('/').pop()!;
    expect(await webhookOf(id)).toEqual({
      filter: { or: [{ city: { eq: 'Paris' } }, { email: { ilike: '%@acme.com' } }] },
      fields: ['email'],
      ordering: 'PER_RECORD',
    });

    // Reopened: the builder shows the same conditions, the pick and the ordering.
    await page.reload();
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByLabel('Value 2').waitFor();
    expect(await page.getByLabel('Field 1').inputValue()).toBe('city');
    expect(await page.getByLabel('Value 1').inputValue()).toBe('Paris');
    expect(await page.getByLabel('Comparator 2').inputValue()).toBe('ilike');
    expect(await page.getByLabel('Value 2').inputValue()).toBe('%@acme.com');
    expect(await page.getByLabel('Match').inputValue()).toBe('or');
    expect(await page.getByRole('checkbox', { name: /^Email/ }).isChecked()).toBe(true);
    expect(await page.getByRole('checkbox', { name: /^City/ }).isChecked()).toBe(false);
    expect(await page.getByRole('radio', { name: /Per record/ }).isChecked()).toBe(true);

    // The JSON view: a filter the builder cannot show stays JSON, with a note, and saves as written.
    await page.getByRole('button', { name: 'JSON', exact: true }).click();
    const json = page.getByLabel('Filter JSON');
    expect(JSON.parse(await json.inputValue())).toEqual({ or: [{ city: { eq: 'Paris' } }, { email: { ilike: '%@acme.com' } }] });
    const nested = { and: [{ city: { eq: 'Paris' } }, { not: { jobTitle: { eq: 'CEO' } } }] };
    await json.fill(JSON.stringify(nested));
    await page.getByTestId('filter-note').getByText('the JSON here is what is saved').waitFor();
    expect(await page.getByRole('button', { name: 'Builder', exact: true }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await eventually(() => webhookOf(id), (webhook) => JSON.stringify(webhook.filter) === JSON.stringify(nested));
    await page.reload();
    await page.getByRole('tab', { name: 'Settings' }).click();
    await page.getByTestId('filter-note').waitFor();
    expect(JSON.parse(await page.getByLabel('Filter JSON').inputValue())).toEqual(nested);

    // A simple JSON filter goes back into the builder, as conditions.
    await page.getByLabel('Filter JSON').fill('{ "city": { "in": ["Paris", "Rome"] } }');
    await page.getByRole('button', { name: 'Builder', exact: true }).click();
    expect(await page.getByLabel('Field 1').inputValue()).toBe('city');
    expect(await page.getByLabel('Comparator 1').inputValue()).toBe('in');
    expect(await page.getByLabel('Value 1').inputValue()).toBe('Paris, Rome');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await eventually(() => webhookOf(id), (webhook) => JSON.stringify(webhook.filter) === '{"city":{"in":["Paris","Rome"]}}');
    // Saving shows the saved settings again: the simple filter in the builder.
    await page.getByLabel('Value 1').waitFor();

    // The server's refusal appears next to the filter, naming the part at fault; nothing changes.
    await page.getByRole('button', { name: 'JSON', exact: true }).click();
    await page.getByLabel('Filter JSON').fill('{ "city": { "gt": 5 } }');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('.filter-editor .field-error').getByText('filter.city.gt').waitFor();
    expect((await webhookOf(id)).filter).toEqual({ city: { in: ['Paris', 'Rome'] } });

    // So does a refusal of the changed fields: email is no field of a company.
    await page.getByLabel('Filter JSON').fill('');
    await page.getByLabel('Object 1').selectOption('company');
    expect(await page.getByRole('checkbox', { name: /^email/ }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('.changed-fields .field-error').getByText('"email" is not a field of company').waitFor();
    expect(await webhookOf(id)).toMatchObject({ fields: ['email'], ordering: 'PER_RECORD' });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows a delivery held back behind a failing one of the same record as Held, with the one it waits for, then sends it', async () => {
    receiver.respondWith(503, '{"error":"busy"}');
    const created = await app.graphql('mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }', {
      input: { targetUrl: `${receiver.url}/held`, operations: ['person.*'], ordering: 'PER_RECORD' },
    });
    const id = created.data.createWebhook.id;
    const person = await app.graphql('mutation { createPerson(data: { firstName: "Grace" }) { id } }');
    await app.graphql('mutation ($id: UUID!) { updatePerson(id: $id, data: { city: "Paris" }) { id } }', { id: person.data.createPerson.id });
    // The creation was refused once and waits a minute for its retry; the update waits behind it.
    const rows = () => app.server.database.db.selectFrom('deliveries').select(['id', 'operation', 'attempt_count', 'status']).where('webhook_id', '=', id).execute();
    const before = await eventually(rows, (list) => list.length === 2 && list.some((row) => row.operation === 'person.created' && row.attempt_count === 1));
    const creation = before.find((row) => row.operation === 'person.created')!;

    const { page, problems } = await openSignedIn(`/settings/api-webhooks/webhooks/${id}`);
    await page.getByRole('tab', { name: 'Deliveries' }).click();
    const update = page.locator('li.delivery', { has: page.locator('code.operation', { hasText: 'person.updated' }) });
    const first = page.locator('li.delivery', { has: page.locator('code.operation', { hasText: 'person.created' }) });
    await update.locator('.badge', { hasText: 'Held' }).waitFor();
    expect(await first.locator('.delivery-badges .badge').first().textContent()).toBe('Pending');
    await update.locator('button[aria-expanded]').first().click();
    await update.getByText(`Waiting behind delivery ${creation.id}`).waitFor();
    await update.getByRole('button', { name: 'Show the delivery it waits for' }).click();
    const holder = update.getByTestId('held-behind');
    await holder.getByText('person.created').waitFor();
    await holder.getByText('HTTP 503').waitFor();
    await screenshot(page, 'delivery-held');

    // Once the creation is resent and accepted, the held update goes too.
    receiver.respondWith(200, '{"ok":true}');
    await first.getByRole('button', { name: 'Resend person.created delivery' }).click();
    await update.locator('.badge', { hasText: 'Succeeded' }).waitFor({ timeout: 20_000 });
    const bodies = receiver.requests.filter((request) => request.path.endsWith('/held')).map((request) => JSON.parse(request.body).operation);
    expect(bodies).toEqual(['person.created', 'person.created', 'person.updated']);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('replays a time window from the webhook page, saying how many were queued and when the window reaches past retention', async () => {
    receiver.respondWith(200, '{"ok":true}');
    const created = await app.graphql('mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }', {
      input: { targetUrl: `${receiver.url}/replay`, operations: ['company.created'] },
    });
    const id = created.data.createWebhook.id;
    await app.graphql('mutation ($id: UUID!) { updateWebhook(input: { id: $id, status: DISABLED }) { id } }', { id });
    const since = new Date(Date.now() - 1000);
    for (const name of ['Acme', 'Globex']) await app.graphql('mutation ($name: String!) { createCompany(data: { name: $name }) { id } }', { name });
    await app.graphql('mutation ($id: UUID!) { updateWebhook(input: { id: $id, status: ACTIVE }) { id } }', { id });
    const received = () => receiver.requests.filter((request) => request.path.endsWith('/replay'));
    expect(received()).toHaveLength(0);

    const { page, problems } = await openSignedIn(`/settings/api-webhooks/webhooks/${id}`);
    await page.getByRole('tab', { name: 'Deliveries' }).click();
    const panel = page.getByRole('region', { name: 'Replay events' });
    const local = (date: Date) => {
      const pad = (part: number) => String(part).padStart(2, '0');
      return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
    };
    await panel.getByLabel('From').fill(local(since));
    await panel.getByRole('button', { name: 'Replay events' }).click();
    await panel.getByText('Queued 2 deliveries').waitFor();
    expect(await panel.getByTestId('replay-retention').count()).toBe(0);
    await eventually(async () => received().length, (count) => count === 2);
    expect(received().map((request) => JSON.parse(request.body).record.name).sort()).toEqual(['Acme', 'Globex']);
    await page.locator('li.delivery').nth(1).waitFor();

    // A window starting before what retention keeps says so.
    await panel.getByLabel('From').fill(local(new Date(Date.now() - 40 * 86_400_000)));
    await panel.getByRole('button', { name: 'Replay events' }).click();
    await panel.getByTestId('replay-retention').getByText('are no longer kept').waitFor();
    await screenshot(page, 'webhook-replay');
    expect(problems).toEqual([]);
    await page.close();
  });
});
