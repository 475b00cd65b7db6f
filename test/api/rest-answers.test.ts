import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES } from '../../src/api/app.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { insertSampleEvents } from '../helpers/fixtures.ts';
import { createCustomObject } from '../helpers/metadata.ts';

interface Fixtures {
  webhook: string;
  /** Another webhook of the same workspace: `delivery` is not one of its deliveries. */
  otherWebhook: string;
  delivery: string;
  invoice: string;
  /** A record and a webhook of another workspace: not found here. */
  foreignInvoice: string;
  foreignWebhook: string;
}

/** A request that must be refused, and the field its 422 names. */
interface BadValue {
  path?: (f: Fixtures) => string;
  body?: unknown;
  field: string;
}

/**
 * One REST route: a path of it that exists, and the refusals that apply to it. A route without a body has no 400
 * (unreadable JSON) or 413 (a body over the limit); a route without an id has no 404; a route without input has no
 * 422. Every route answers 401 without a key.
 */
interface RouteCase {
  path: (f: Fixtures) => string;
  /** A valid body: the route reads one. */
  body?: unknown;
  notFound?: Array<(f: Fixtures) => string>;
  badValue?: BadValue;
}

const unknownId = '00000000-0000-4000-8000-000000000001';
/** A cursor as a client could craft it: well-formed base64url JSON, but its id is not a UUID. */
const craftedCursor = Buffer.from(JSON.stringify(['2024-01-01T00:00:00.000Z', "1' OR '1'='1"])).toString('base64url');
const since = '2000-01-01T00:00:00Z';

const CASES: Record<string, RouteCase> = {
  'GET /rest/webhooks': { path: () => '/rest/webhooks' },
  'GET /rest/webhooks/:id': {
    path: (f) => `/rest/webhooks/${f.webhook}`,
    notFound: [() => `/rest/webhooks/${unknownId}`, () => '/rest/webhooks/not-a-uuid', (f) => `/rest/webhooks/${f.foreignWebhook}`],
  },
  'POST /rest/webhooks': {
    path: () => '/rest/webhooks',
    body: { targetUrl: 'https://hooks.example.com/x' },
    badValue: { body: { targetUrl: 42 }, field: 'targetUrl' },
  },
  'PATCH /rest/webhooks/:id': {
    path: (f) => `/rest/webhooks/${f.webhook}`,
    body: { description: 'x' },
    notFound: [() => `/rest/webhooks/${unknownId}`, (f) => `/rest/webhooks/${f.foreignWebhook}`],
    badValue: { body: { status: 'PAUSED' }, field: 'status' },
  },
  'DELETE /rest/webhooks/:id': { path: (f) => `/rest/webhooks/${f.webhook}`, notFound: [() => `/rest/webhooks/${unknownId}`, (f) => `/rest/webhooks/${f.foreignWebhook}`] },
  'POST /rest/webhooks/:id/rotate-secret': {
    path: (f) => `/rest/webhooks/${f.webhook}/rotate-secret`,
    notFound: [() => `/rest/webhooks/${unknownId}/rotate-secret`, (f) => `/rest/webhooks/${f.foreignWebhook}/rotate-secret`],
  },
  'GET /rest/webhooks/:id/deliveries': {
    path: (f) => `/rest/webhooks/${f.webhook}/deliveries`,
    notFound: [() => `/rest/webhooks/${unknownId}/deliveries`, (f) => `/rest/webhooks/${f.foreignWebhook}/deliveries`],
    badValue: { path: (f) => `/rest/webhooks/${f.webhook}/deliveries?cursor=${craftedCursor}`, field: 'cursor' },
  },
  'GET /rest/webhooks/:id/deliveries/:deliveryId': {
    path: (f) => `/rest/webhooks/${f.webhook}/deliveries/${f.delivery}`,
    notFound: [(f) => `/rest/webhooks/${f.webhook}/deliveries/${unknownId}`, (f) => `/rest/webhooks/${f.otherWebhook}/deliveries/${f.delivery}`],
  },
  'POST /rest/webhooks/:id/deliveries/:deliveryId/redeliver': {
    path: (f) => `/rest/webhooks/${f.webhook}/deliveries/${f.delivery}/redeliver`,
    notFound: [(f) => `/rest/webhooks/${f.webhook}/deliveries/${unknownId}/redeliver`, (f) => `/rest/webhooks/${f.otherWebhook}/deliveries/${f.delivery}/redeliver`],
  },
  'POST /rest/webhooks/:id/recover': {
    path: (f) => `/rest/webhooks/${f.webhook}/recover`,
    body: { since },
    notFound: [() => `/rest/webhooks/${unknownId}/recover`, (f) => `/rest/webhooks/${f.foreignWebhook}/recover`],
    badValue: { body: { since: 'yesterday' }, field: 'since' },
  },
  'POST /rest/webhooks/:id/replay': {
    path: (f) => `/rest/webhooks/${f.webhook}/replay`,
    body: { since },
    notFound: [() => `/rest/webhooks/${unknownId}/replay`, (f) => `/rest/webhooks/${f.foreignWebhook}/replay`],
    badValue: { body: { since, until: 5 }, field: 'until' },
  },
  'POST /rest/webhooks/:id/test': {
    path: (f) => `/rest/webhooks/${f.webhook}/test`,
    body: { operation: 'person.created' },
    notFound: [() => `/rest/webhooks/${unknownId}/test`, (f) => `/rest/webhooks/${f.foreignWebhook}/test`],
    badValue: { body: { operation: 5 }, field: 'operation' },
  },
  'GET /rest/webhooks/:id/stats': {
    path: (f) => `/rest/webhooks/${f.webhook}/stats`,
    notFound: [() => `/rest/webhooks/${unknownId}/stats`, (f) => `/rest/webhooks/${f.foreignWebhook}/stats`],
  },
  'GET /rest/:plural': {
    path: () => '/rest/invoices',
    notFound: [() => '/rest/nothings'],
    badValue: { path: () => `/rest/invoices?cursor=${craftedCursor}`, field: 'cursor' },
  },
  'GET /rest/:plural/:id': {
    path: (f) => `/rest/invoices/${f.invoice}`,
    notFound: [() => `/rest/invoices/${unknownId}`, (f) => `/rest/invoices/${f.foreignInvoice}`, (f) => `/rest/nothings/${f.invoice}`],
  },
  'POST /rest/:plural': {
    path: () => '/rest/invoices',
    body: { total: 1 },
    notFound: [() => '/rest/nothings'],
    badValue: { body: { total: 'lots' }, field: 'body.total' },
  },
  'POST /rest/batch/:plural': {
    path: () => '/rest/batch/invoices',
    body: [{ total: 1 }],
    notFound: [() => '/rest/batch/nothings'],
    badValue: { body: [{ total: 1 }, { tags: ['Z'] }], field: 'body[1].tags[0]' },
  },
  'PATCH /rest/:plural/:id': {
    path: (f) => `/rest/invoices/${f.invoice}`,
    body: { total: 2 },
    notFound: [() => `/rest/invoices/${unknownId}`, (f) => `/rest/invoices/${f.foreignInvoice}`],
    badValue: { body: { dueOn: '2024-02-30' }, field: 'body.dueOn' },
  },
  'DELETE /rest/:plural/:id': {
    path: (f) => `/rest/invoices/${f.invoice}`,
    notFound: [() => `/rest/invoices/${unknownId}`, (f) => `/rest/invoices/${f.foreignInvoice}`],
    badValue: { path: (f) => `/rest/invoices/${f.invoice}?hard=maybe`, field: 'hard' },
  },
  'POST /rest/:plural/:id/restore': {
    path: (f) => `/rest/invoices/${f.invoice}/restore`,
    notFound: [() => `/rest/invoices/${unknownId}/restore`, (f) => `/rest/invoices/${f.foreignInvoice}/restore`],
  },
  'GET /rest/openapi.json': { path: () => '/rest/openapi.json' },
};

const INVOICE_FIELDS = [
  '{ type: NUMBER, name: "total", label: "Total" }',
  '{ type: MULTI_SELECT, name: "tags", label: "Tags", options: [{ value: "A", label: "A" }] }',
  '{ type: DATE, name: "dueOn", label: "Due" }',
];
const INVOICE = { nameSingular: 'invoice', namePlural: 'invoices' };

describe.each(DATABASE_KINDS)('every REST route answers the same way on %s', (kind) => {
  let app: TestApp;
  let key: string;
  let fixtures: Fixtures;

  const snapshot = async () =>
    (
      await sql<Record<string, string>>`SELECT (SELECT count(*) FROM webhooks) AS webhooks, (SELECT count(*) FROM custom_records) AS records,
        (SELECT max(updated_at) FROM custom_records) AS "recordsChanged", (SELECT max(updated_at) FROM webhooks) AS "webhooksChanged",
        (SELECT count(*) FROM deliveries) AS deliveries, (SELECT max(updated_at) FROM deliveries) AS "deliveriesChanged"`.execute(app.server.database.db)
    ).rows[0];

  async function call(method: string, path: string, options: { body?: string; key?: string | null } = {}) {
    const headers: Record<string, string> = {};
    if (options.key !== null) headers.authorization = `Bearer ${options.key ?? key}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${app.url}${path}`, { method, headers, body: options.body });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  beforeAll(async () => {
    app = await startTestApp(kind, { role: 'api' });
    const mine = await app.createWorkspace(`answers-${kind}`);
    key = mine.apiKey;
    const other = await app.createWorkspace(`answers-other-${kind}`);
    await createCustomObject(app, INVOICE, INVOICE_FIELDS, key);
    await createCustomObject(app, INVOICE, INVOICE_FIELDS, other.apiKey);
    const create = async (path: string, body: unknown, apiKey = key) => {
      const answer = await app.rest('POST', path, body, apiKey);
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      return Object.values(answer.body.data)[0] as { id: string };
    };
    const webhook = await create('/rest/webhooks', { targetUrl: 'https://hooks.example.com/a', operations: ['person.created'] });
    const otherWebhook = await create('/rest/webhooks', { targetUrl: 'https://hooks.example.com/b', operations: ['company.created'] });
    const [event] = await insertSampleEvents(app.server.database.db, mine.workspaceId, 1, 'person.created');
    const delivery = await app.server.database.db.selectFrom('deliveries').select('id').where('event_id', '=', event.id).executeTakeFirstOrThrow();
    fixtures = {
      webhook: webhook.id,
      otherWebhook: otherWebhook.id,
      delivery: delivery.id,
      invoice: (await create('/rest/invoices', { total: 1 })).id,
      foreignInvoice: (await create('/rest/invoices', { total: 1 }, other.apiKey)).id,
      foreignWebhook: (await create('/rest/webhooks', { targetUrl: 'https://hooks.example.com/c' }, other.apiKey)).id,
    };
  });
  afterAll(async () => {
    await app?.close();
  });

  it('has a case for every registered REST route, and a route for every case', () => {
    const routes = app.server.app!.registeredRoutes.filter((route) => route.url.startsWith('/rest/') && route.method !== 'HEAD').map((route) => `${route.method} ${route.url}`);
    expect([...new Set(routes)].sort()).toEqual(Object.keys(CASES).sort());
  });

  it('answers 401 without a key, 400 to unreadable JSON, 413 over the body limit, 404 for an unknown id or one outside its parent, 422 naming the field; stores nothing', async () => {
    const before = await snapshot();
    const oversized = JSON.stringify({ total: 'x'.repeat(BODY_LIMIT_BYTES + 1) });
    for (const [route, spec] of Object.entries(CASES)) {
      const method = route.split(' ')[0];
      const path = spec.path(fixtures);
      const valid = spec.body === undefined ? undefined : JSON.stringify(spec.body);
      const expectError = (answer: { status: number; body: any }, status: number, code: string, context: string) => {
        expect(answer.status, `${context}: ${JSON.stringify(answer.body)}`).toBe(status);
        expect(answer.body.error, context).toMatchObject({ code, message: expect.any(String) });
      };

      expectError(await call(method, path, { body: valid, key: null }), 401, 'UNAUTHENTICATED', `${route} without a key`);
      expectError(await call(method, path, { body: valid, key: 'sb_wrong' }), 401, 'UNAUTHENTICATED', `${route} with a wrong key`);
      if (spec.body !== undefined) {
        expectError(await call(method, path, { body: '{"total": ' }), 400, 'BAD_REQUEST', `${route} unreadable`);
        expectError(await call(method, path, { body: oversized }), 413, 'PAYLOAD_TOO_LARGE', `${route} oversized`);
      }
      for (const notFound of spec.notFound ?? []) {
        expectError(await call(method, notFound(fixtures), { body: valid }), 404, 'NOT_FOUND', `${route} ${notFound(fixtures)}`);
      }
      if (spec.badValue) {
        const bad = spec.badValue;
        const answer = await call(method, bad.path?.(fixtures) ?? path, { body: bad.body === undefined ? valid : JSON.stringify(bad.body) });
        expectError(answer, 422, 'BAD_USER_INPUT', `${route} bad value`);
        expect(answer.body.error.field, route).toBe(bad.field);
        expect(answer.body.error.message, route).toMatch(new RegExp(`^${bad.field.replace(/[.[\]]/g, '\\$&')}: `));
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it('answers an unknown route in the same envelope', async () => {
    for (const [method, path] of [
      ['GET', '/rest/invoices/a/b/c'],
      ['PUT', '/rest/webhooks'],
      ['GET', '/nowhere'],
    ]) {
      const answer = await call(method, path);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.body.error, `${method} ${path}`).toMatchObject({ code: 'NOT_FOUND', message: expect.any(String) });
    }
  });

  it('pages every list with limit and cursor, refusing a limit out of range naming it', async () => {
    for (const list of [`/rest/webhooks/${fixtures.webhook}/deliveries`, '/rest/invoices']) {
      const page = await call('GET', `${list}?limit=1`);
      expect(page.status, list).toBe(200);
      expect(page.body.pageInfo, list).toMatchObject({ hasNextPage: expect.any(Boolean) });
      for (const limit of ['0', 'abc', '100000']) {
        const refused = await call('GET', `${list}?limit=${limit}`);
        expect(refused.status, `${list} ${limit}`).toBe(422);
        expect(refused.body.error.field).toBe('limit');
      }
    }
  });
});
