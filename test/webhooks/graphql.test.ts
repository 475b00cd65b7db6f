import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { signingSecretsOf } from '../helpers/fixtures.ts';
import { TWENTY_CREATE, TWENTY_DELETE, TWENTY_GET_ALL, TWENTY_GET_ONE, TWENTY_UPDATE } from '../helpers/twenty-documents.ts';

// The documents quoted in the issue, verbatim.
const ISSUE_CREATE = 'mutation CreateWebhook($input: CreateWebhookInput!) { createWebhook(input: $input) { id targetUrl operations description secret } }';
const ISSUE_DELETE = 'mutation DeleteWebhook($id: UUID!) { deleteWebhook(id: $id) { id } }';

const FULL = 'id targetUrl operations description secret status createdAt updatedAt deletedAt';
const CREATE_FULL = `mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { ${FULL} } }`;
const UPDATE_FULL = `mutation ($input: UpdateWebhookInput!) { updateWebhook(input: $input) { ${FULL} } }`;
const ROTATE = `mutation ($id: UUID!) { rotateWebhookSecret(id: $id) { ${FULL} } }`;
const GET_FULL = `query ($id: UUID!) { webhook(id: $id) { ${FULL} } }`;
const SECRET_FORMAT = /^whsec_[A-Za-z0-9+/]{43}=$/;

describe.each(DATABASE_KINDS)('webhook management over GraphQL on %s', (kind) => {
  let app: TestApp;
  let webhookCount: () => Promise<number>;
  let operationRows: (webhookId: string) => Promise<string[]>;

  beforeAll(async () => {
    // role api: no delivery worker, so nothing is ever sent to the example.com targets used here.
    app = await startTestApp(kind, { role: 'api' });
    const db = app.server.database.db;
    webhookCount = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM webhooks`.execute(db)).rows[0].n);
    operationRows = async (webhookId) =>
      (
        await db.selectFrom('webhook_operations').select('operation').where('webhook_id', '=', webhookId).orderBy('operation').execute()
      ).map((row) => row.operation);
  });
  afterAll(async () => {
    await app?.close();
  });

  async function create(input: Record<string, unknown>) {
    const result = await app.graphql(CREATE_FULL, { input });
    expect(result.errors).toBeUndefined();
    return result.data.createWebhook;
  }

  it("runs Twenty's documents verbatim: create, list, get, update { id, update }, delete", async () => {
    const created = await app.graphql(TWENTY_CREATE, {
      input: { targetUrl: 'https://example.com/twenty', operations: ['person.created', 'company.*'], description: 'from Twenty' },
    });
    expect(created.errors).toBeUndefined();
    const webhook = created.data.createWebhook;
    expect(webhook).toMatchObject({ targetUrl: 'https://example.com/twenty', operations: ['person.created', 'company.*'], description: 'from Twenty' });
    expect(webhook.secret).toMatch(SECRET_FORMAT);

    const all = await app.graphql(TWENTY_GET_ALL);
    expect(all.data.webhooks).toContainEqual({ ...webhook, secret: null });
    const one = await app.graphql(TWENTY_GET_ONE, { id: webhook.id });
    expect(one.data.webhook).toEqual({ ...webhook, secret: null });

    const updated = await app.graphql(TWENTY_UPDATE, {
      input: { id: webhook.id, update: { targetUrl: 'https://example.com/v2', operations: ['*.*'], description: 'edited', secret: '' } },
    });
    expect(updated.errors).toBeUndefined();
    expect(updated.data.updateWebhook).toEqual({
      id: webhook.id,
      targetUrl: 'https://example.com/v2',
      operations: ['*.*'],
      description: 'edited',
      secret: null,
    });
    // An empty secret in Twenty's form keeps the current one.
    expect(await signingSecretsOf(app.server.database.db, app.server.services.webhooks.secretBox, webhook.id)).toEqual([webhook.secret]);

    const deleted = await app.graphql(TWENTY_DELETE, { id: webhook.id });
    expect(deleted.errors).toBeUndefined();
    expect(deleted.data.deleteWebhook).toMatchObject({ id: webhook.id, secret: null });
    expect((await app.graphql(TWENTY_GET_ONE, { id: webhook.id })).data.webhook).toBeNull();
    expect((await app.graphql(TWENTY_GET_ALL)).data.webhooks.map((item: { id: string }) => item.id)).not.toContain(webhook.id);
  });

  it('runs the documents quoted in the issue verbatim, and defaults operations to *.*', async () => {
    const created = await app.graphql(ISSUE_CREATE, { input: { targetUrl: 'http://127.0.0.1:4000/hook' } });
    expect(created.errors).toBeUndefined();
    expect(created.data.createWebhook).toMatchObject({ targetUrl: 'http://127.0.0.1:4000/hook', operations: ['*.*'], description: null });
    const deleted = await app.graphql(ISSUE_DELETE, { id: created.data.createWebhook.id });
    expect(deleted).toEqual({ status: 200, data: { deleteWebhook: { id: created.data.createWebhook.id } } });
  });

  it('updates with flat fields and status, keeps webhook_operations in step, and clears a description with null', async () => {
    const webhook = await create({ targetUrl: 'https://example.com/flat', operations: ['person.created'], description: 'before' });
    expect(await operationRows(webhook.id)).toEqual(['person.created']);

    const flat = await app.graphql(
      'mutation ($input: UpdateWebhookInput!) { updateWebhook(input: $input) { id operations description status secret updatedAt } }',
      { input: { id: webhook.id, operations: ['company.updated', '*.deleted', 'company.updated'], description: 'after', status: 'DISABLED' } },
    );
    expect(flat.errors).toBeUndefined();
    expect(flat.data.updateWebhook).toMatchObject({
      operations: ['company.updated', '*.deleted'],
      description: 'after',
      status: 'DISABLED',
      secret: null,
    });
    expect(new Date(flat.data.updateWebhook.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(webhook.updatedAt).getTime());
    expect(await operationRows(webhook.id)).toEqual(['*.deleted', 'company.updated']);

    // Both forms at once, agreeing where they overlap.
    const both = await app.graphql(UPDATE_FULL, {
      input: { id: webhook.id, status: 'ACTIVE', description: null, update: { operations: ['person.*'], targetUrl: 'https://example.com/both' } },
    });
    expect(both.errors).toBeUndefined();
    expect(both.data.updateWebhook).toMatchObject({
      status: 'ACTIVE',
      description: null,
      operations: ['person.*'],
      targetUrl: 'https://example.com/both',
      secret: null,
    });
    expect(await operationRows(webhook.id)).toEqual(['person.*']);
  });

  it('refuses every invalid input, naming the entry, and stores nothing', async () => {
    const existing = await create({ targetUrl: 'https://example.com/keep', operations: ['person.created'], description: 'keep' });
    const longUrl = `https://example.com/${'a'.repeat(2030)}`;
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['operations[1]', { targetUrl: 'https://example.com/x', operations: ['person.created', 'person.exploded'] }, /^operations\[1\]: "person\.exploded" is not a valid operation: action must be one of created, updated, deleted, restored, destroyed or \*$/],
      ['operations[0]', { targetUrl: 'https://example.com/x', operations: ['people.created'] }, /^operations\[0\]: "people\.created" is not a valid operation: object must be one of person, company, opportunity or \*$/],
      ['operations[0]', { targetUrl: 'https://example.com/x', operations: ['everything'] }, /\{object\}\.\{action\}/],
      ['operations', { targetUrl: 'https://example.com/x', operations: [] }, /at least one/],
      ['operations', { targetUrl: 'https://example.com/x', operations: Array(51).fill('*.*') }, /at most 50/],
      ['targetUrl', { targetUrl: 'not a url' }, /not an absolute URL/],
      ['targetUrl', { targetUrl: 'ftp://example.com/' }, /http: or https:/],
      ['targetUrl', { targetUrl: longUrl }, /at most 2048/],
      ['targetUrl', { targetUrl: 'https://u:p@example.com/' }, /user name or password/],
      ['description', { targetUrl: 'https://example.com/x', description: 'd'.repeat(1001) }, /at most 1000/],
      ['secret', { targetUrl: 'https://example.com/x', secret: 'short' }, /at least 16/],
      ['secret', { targetUrl: 'https://example.com/x', secret: 'whsec_not*base64*at*all' }, /base64/],
      ['id', { id: existing.id, targetUrl: 'https://example.com/x' }, /already exists/],
    ];
    const before = await webhookCount();
    for (const [field, input, message] of cases) {
      const result = await app.graphql(CREATE_FULL, { input });
      expect(result.data, field).toBeNull();
      expect(result.errors?.[0].extensions?.field, JSON.stringify(input).slice(0, 80)).toBe(field);
      expect(result.errors?.[0].message).toMatch(message);
      expect(result.errors?.[0].extensions?.code).toBe(field === 'id' ? 'CONFLICT' : 'BAD_USER_INPUT');
    }
    expect(await webhookCount()).toBe(before);

    const updates: Array<[string, Record<string, unknown>]> = [
      ['operations[2]', { operations: ['*.*', 'company.*', 'deal.created'] }],
      ['update.operations[0]', { update: { operations: ['person.merged'] } }],
      ['update.targetUrl', { update: { targetUrl: '/relative' } }],
      ['description', { description: 'x'.repeat(1001) }],
      ['update.secret', { update: { secret: 'too-short' } }],
      ['update.description', { description: 'a', update: { description: 'b' } }],
      // A valid change next to an invalid one is not applied either.
      ['operations[0]', { targetUrl: 'https://example.com/changed', operations: ['bad'] }],
    ];
    for (const [field, input] of updates) {
      const result = await app.graphql(UPDATE_FULL, { input: { id: existing.id, ...input } });
      expect(result.errors?.[0].extensions?.field).toBe(field);
      expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    }
    const unchanged = (await app.graphql(GET_FULL, { id: existing.id })).data.webhook;
    expect(unchanged).toEqual({ ...existing, secret: null });
    expect(await operationRows(existing.id)).toEqual(['person.created']);

    // Refused by GraphQL's own coercion of variables, before any resolver runs.
    const badStatus = await app.graphql(UPDATE_FULL, { input: { id: existing.id, status: 'PAUSED' } });
    expect(badStatus.data).toBeNull();
    expect(badStatus.errors).toHaveLength(1);
    const badId = await app.graphql(CREATE_FULL, { input: { id: 'nope', targetUrl: 'https://example.com/x' } });
    expect(badId.data).toBeNull();
    expect(badId.errors).toHaveLength(1);
    const badStatusLiteral = await app.graphql(`mutation { updateWebhook(input: { id: "${existing.id}", status: PAUSED }) { id } }`);
    expect(badStatusLiteral.errors?.[0].message).toMatch(/PAUSED/);
    expect((await app.graphql(GET_FULL, { id: existing.id })).data.webhook.status).toBe('ACTIVE');
    expect(await webhookCount()).toBe(before);
  });

  it('shows the secret in exactly two answers: create and rotate', async () => {
    const created = await create({ targetUrl: 'https://example.com/secret' });
    expect(created.secret).toMatch(SECRET_FORMAT);
    const rotated = (await app.graphql(ROTATE, { id: created.id })).data.rotateWebhookSecret;
    expect(rotated.secret).toMatch(SECRET_FORMAT);
    expect(rotated.secret).not.toBe(created.secret);

    const list = await app.graphql(`{ webhooks { ${FULL} } }`);
    expect(list.data.webhooks.length).toBeGreaterThan(0);
    expect(list.data.webhooks.every((item: { secret: string | null }) => item.secret === null)).toBe(true);
    expect((await app.graphql(GET_FULL, { id: created.id })).data.webhook.secret).toBeNull();
    const updated = await app.graphql(UPDATE_FULL, { input: { id: created.id, update: { secret: 'a-new-secret-of-my-choice' } } });
    expect(updated.data.updateWebhook.secret).toBeNull();
    const deleted = await app.graphql(`mutation ($id: UUID!) { deleteWebhook(id: $id) { ${FULL} } }`, { id: created.id });
    expect(deleted.data.deleteWebhook.secret).toBeNull();
    expect(deleted.data.deleteWebhook.deletedAt).toBeTruthy();

    const given = await create({ targetUrl: 'https://example.com/given', secret: 'my-own-secret-0123456789' });
    expect(given.secret).toBe('my-own-secret-0123456789');
  });

  it('lets a client choose the id', async () => {
    const id = '0b6f4c3e-6f3a-4d35-9a57-2a1a4f0d9e11';
    const created = await create({ id: id.toUpperCase(), targetUrl: 'https://example.com/chosen' });
    expect(created.id).toBe(id);
  });

  it('keeps workspaces apart: another workspace cannot read, update, delete or rotate', async () => {
    const mine = await create({ targetUrl: 'https://example.com/mine', description: 'private' });
    const other = await app.createWorkspace(`webhooks-other-${kind}`);

    const read = await app.graphql(GET_FULL, { id: mine.id }, other.apiKey);
    expect(read.data).toEqual({ webhook: null });
    const list = await app.graphql(`{ webhooks { id } }`, {}, other.apiKey);
    expect(list.data.webhooks).toEqual([]);
    for (const [document, variables] of [
      [UPDATE_FULL, { input: { id: mine.id, description: 'hijacked', status: 'DISABLED' } }],
      [UPDATE_FULL, { input: { id: mine.id } }],
      [`mutation ($id: UUID!) { deleteWebhook(id: $id) { ${FULL} } }`, { id: mine.id }],
      [ROTATE, { id: mine.id }],
    ] as const) {
      const result = await app.graphql(document, variables, other.apiKey);
      expect(result.data).toBeNull();
      expect(result.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      expect(JSON.stringify(result)).not.toContain('private');
    }
    const after = (await app.graphql(GET_FULL, { id: mine.id })).data.webhook;
    expect(after).toEqual({ ...mine, secret: null });
    expect(await signingSecretsOf(app.server.database.db, app.server.services.webhooks.secretBox, mine.id)).toEqual([mine.secret]);
  });

  it('answers not found for unknown and deleted ids', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await app.graphql(GET_FULL, { id: unknown })).data.webhook).toBeNull();
    expect((await app.graphql(ROTATE, { id: unknown })).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const webhook = await create({ targetUrl: 'https://example.com/gone' });
    await app.graphql(ISSUE_DELETE, { id: webhook.id });
    for (const [document, variables] of [
      [ISSUE_DELETE, { id: webhook.id }],
      [ROTATE, { id: webhook.id }],
      [UPDATE_FULL, { input: { id: webhook.id, status: 'ACTIVE' } }],
    ] as const) {
      expect((await app.graphql(document, variables)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    }
  });
});
