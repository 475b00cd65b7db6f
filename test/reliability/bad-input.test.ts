import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES } from '../../src/api/app.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';

const RUNS = 40;

/** Values a careless or hostile client may send in place of any field. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ minLength: 300, maxLength: 3_000 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0, 2 ** 31, 1e308),
  fc.boolean(),
  fc.constant(null),
  fc.uuid(),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.constantFrom('', ' ', '\u0000', 'not-a-uuid', '2024-13-45', 'javascript:alert(1)', 'http://127.0.0.1/', '*.*', 'person.created'),
  fc.jsonValue({ maxDepth: 2 }),
);

const FIELDS = [
  'id', 'firstName', 'lastName', 'email', 'jobTitle', 'phone', 'city', 'companyId', 'name', 'domainName', 'employees', 'address',
  'amount', 'stage', 'closeDate', 'pointOfContactId', 'targetUrl', 'operations', 'description', 'secret', 'status', 'update',
  'object', 'field', 'nameSingular', 'namePlural', 'labelSingular', 'labelPlural', 'objectMetadataId', 'type', 'label', 'options',
  'defaultValue', 'isNullable', 'relationCreationPayload', 'total', 'tags', 'dueOn',
];
const anyObject = fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 12 })), anyValue, { maxKeys: 6 });
const anyBody: fc.Arbitrary<unknown> = fc.oneof(anyObject, fc.array(anyObject, { maxLength: 4 }), anyValue);

const GRAPHQL_MUTATIONS = [
  'mutation($data: PersonCreateInput!) { createPerson(data: $data) { id } }',
  'mutation($data: [PersonCreateInput!]!) { createPeople(data: $data) { id } }',
  'mutation($data: CompanyCreateInput!) { createCompany(data: $data) { id } }',
  'mutation($data: [OpportunityCreateInput!]!) { createOpportunities(data: $data) { id } }',
  'mutation($id: UUID!, $data: PersonUpdateInput!) { updatePerson(id: $id, data: $data) { id } }',
  'mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }',
  'mutation($input: UpdateWebhookInput!) { updateWebhook(input: $input) { id } }',
  'mutation($id: UUID!, $since: DateTime!) { recoverWebhook(id: $id, since: $since) { queued } }',
  'mutation($data: InvoiceCreateInput!) { createInvoice(data: $data) { id } }',
  'mutation($id: UUID!, $data: InvoiceUpdateInput!) { updateInvoice(id: $id, data: $data) { id } }',
  'mutation($input: CreateOneObjectInput!) { createOneObject(input: $input) { id } }',
  'mutation($input: CreateOneFieldMetadataInput!) { createOneField(input: $input) { id } }',
  'mutation($input: UpdateOneFieldMetadataInput!) { updateOneField(input: $input) { id } }',
];
const REST_CALLS: Array<[string, string]> = [
  ['POST', '/rest/people'],
  ['POST', '/rest/batch/companies'],
  ['POST', '/rest/opportunities'],
  ['PATCH', '/rest/people/:person'],
  ['POST', '/rest/webhooks'],
  ['PATCH', '/rest/webhooks/:webhook'],
  ['POST', '/rest/invoices'],
  ['PATCH', '/rest/invoices/:invoice'],
];

describe.each(DATABASE_KINDS)('bad input on %s: no 500, nothing half-written', (kind) => {
  let app: TestApp;
  let personId: string;
  let webhookId: string;
  let invoiceId: string;
  beforeAll(async () => {
    app = await startTestApp(kind, { role: 'api' });
    // A custom object with fields of several types, so its generated API is attacked too.
    const object = await app.graphql(
      'mutation { createOneObject(input: { object: { nameSingular: "invoice", namePlural: "invoices", labelSingular: "I", labelPlural: "Is" } }) { id } }',
    );
    for (const field of [
      '{ type: NUMBER, name: "total", label: "T" }',
      '{ type: MULTI_SELECT, name: "tags", label: "T", options: [{ value: "A", label: "A" }] }',
      '{ type: DATE, name: "dueOn", label: "D" }',
      '{ type: CURRENCY, name: "amount", label: "A", isNullable: false, defaultValue: { amountMicros: 0, currencyCode: "EUR" } }',
    ]) {
      const created = await app.graphql(`mutation { createOneField(input: { field: { objectMetadataId: "${object.data.createOneObject.id}", ${field.slice(1)} }) { id } }`);
      expect(created.errors).toBeUndefined();
    }
    invoiceId = (await app.rest('POST', '/rest/invoices', { total: 1 })).body.data.createInvoice.id;
    personId = (await app.rest('POST', '/rest/people', { firstName: 'Seed' })).body.data.createPerson.id;
    webhookId = (await app.rest('POST', '/rest/webhooks', { targetUrl: 'https://hooks.example.com/seed' })).body.data.createWebhook.id;
    expect(personId).toBeTruthy();
    expect(webhookId).toBeTruthy();
  });
  afterAll(async () => {
    await app?.close();
  });

  /** Rows of every table a write can touch, and the events without their record (must stay 0). */
  async function snapshot() {
    const { rows } = await sql<Record<string, string | number>>`
      SELECT (SELECT count(*) FROM people) AS people, (SELECT count(*) FROM companies) AS companies,
             (SELECT count(*) FROM opportunities) AS opportunities, (SELECT count(*) FROM webhooks) AS webhooks,
             (SELECT count(*) FROM webhook_operations) AS webhook_operations, (SELECT count(*) FROM events) AS events,
             (SELECT count(*) FROM custom_records) AS custom_records, (SELECT max(updated_at)::text FROM custom_records) AS custom_updated,
             (SELECT count(*) FROM object_metadata) AS objects, (SELECT count(*) FROM field_metadata) AS fields,
             (SELECT metadata_version::text FROM workspaces ORDER BY created_at LIMIT 1) AS metadata_version,
             (SELECT max(updated_at)::text FROM people) AS people_updated, (SELECT max(updated_at)::text FROM webhooks) AS webhooks_updated,
             (SELECT count(*) FROM events e WHERE NOT EXISTS (
                SELECT 1 FROM people p WHERE p.id = e.record_id UNION ALL SELECT 1 FROM companies c WHERE c.id = e.record_id
                UNION ALL SELECT 1 FROM opportunities o WHERE o.id = e.record_id
                UNION ALL SELECT 1 FROM custom_records r WHERE r.id = e.record_id)) AS orphan_events
    `.execute(app.server.database.db);
    return Object.fromEntries(Object.entries(rows[0]).map(([key, value]) => [key, String(value)]));
  }

  /** A refused request changes nothing; an accepted one never leaves an event without its record. */
  async function checkOutcome(status: number, before: Record<string, string>, context: unknown): Promise<void> {
    expect(status, JSON.stringify(context)).toBeLessThan(500);
    const after = await snapshot();
    expect(after.orphan_events, JSON.stringify(context)).toBe('0');
    if (status >= 400) expect(after, JSON.stringify(context)).toEqual(before);
  }

  it('GraphQL mutations with arbitrary variables never answer 500 and write all or nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...GRAPHQL_MUTATIONS), anyObject, anyBody, fc.boolean(), async (query, input, data, realIds) => {
        const variables: Record<string, unknown> = { data, input, since: input.since ?? data, id: realIds ? personId : (input.id ?? data) };
        if (realIds && query.includes('updateWebhook') && typeof input === 'object') variables.input = { ...input, id: webhookId };
        if (realIds && query.includes('updateInvoice')) variables.id = invoiceId;
        const before = await snapshot();
        const response = await fetch(`${app.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${app.apiKey}` },
          body: JSON.stringify({ query, variables }),
        });
        const body = (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
        const codes = (body.errors ?? []).map((error) => error.extensions?.code);
        expect(codes, JSON.stringify({ query, variables })).not.toContain('INTERNAL_SERVER_ERROR');
        await checkOutcome(body.errors ? 400 : response.status, before, { query, variables });
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('REST writes with arbitrary bodies never answer 500 and write all or nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...REST_CALLS), anyBody, async ([method, template], body) => {
        const path = template.replace(':person', personId).replace(':webhook', webhookId).replace(':invoice', invoiceId);
        const before = await snapshot();
        const response = await app.rest(method, path, body);
        await checkOutcome(response.status, before, { method, path, body });
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('query strings and path ids of any shape answer 4xx, never 500', async () => {
    const pathPart = fc.oneof(fc.string({ maxLength: 40 }), fc.uuid(), fc.constantFrom('..', '%00', '%ZZ', "' OR 1=1 --", 'null'));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/rest/people', '/rest/companies', '/rest/webhooks', '/rest/webhooks/:id/deliveries', '/rest/webhooks/:id/stats'),
        pathPart,
        fc.constantFrom('limit', 'cursor', 'includeDeleted', 'status', 'hard'),
        pathPart,
        async (template, id, key, value) => {
          const path = `${template.replace(':id', encodeURIComponent(id))}${template.includes(':id') ? '' : `/${encodeURIComponent(id)}`}`;
          for (const url of [path, `${template.replace(':id', webhookId)}?${key}=${encodeURIComponent(value)}`]) {
            const response = await app.rest('GET', url);
            expect(response.status, url).toBeLessThan(500);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('answers 400 to malformed JSON and 413 to an oversized body, and stores nothing', async () => {
    const before = await snapshot();
    for (const path of ['/graphql', '/rest/people', '/rest/webhooks']) {
      for (const text of ['{', '{"firstName": "Ada",}', 'nul', '{"a":1}{"b":2}', '\u0000']) {
        const response = await fetch(`${app.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${app.apiKey}` },
          body: text,
        });
        expect(response.status, `${path} ${JSON.stringify(text)}`).toBe(400);
      }
      const oversized = await fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${app.apiKey}` },
        body: JSON.stringify({ firstName: 'x'.repeat(BODY_LIMIT_BYTES + 1) }),
      });
      expect(oversized.status, path).toBe(413);
    }
    expect(await snapshot()).toEqual(before);
  });
});
