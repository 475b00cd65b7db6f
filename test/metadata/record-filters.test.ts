import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDataModel, filterDescriptors } from '../../src/domain/metadata.ts';
import { evaluateRecordFilter, parseRecordFilter } from '../../src/domain/record-filter.ts';
import { loadWorkspaceMetadata } from '../../src/storage/metadata.ts';
import { compileRecordFilter } from '../../src/storage/record-query.ts';
import { recordScope } from '../../src/storage/records.ts';
import { MAX_PAGE_SIZE } from '../../src/records/service.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';

const SELECTION = 'id note total status tags dueOn paidAt amount { amountMicros currencyCode } companyId createdAt';

describe.each(DATABASE_KINDS)('list filters and orderBy on standard and custom fields on %s', (kind) => {
  let app: TestApp;
  let workspaceId: string;
  let invoices: Array<Record<string, any>>;
  let acmeId: string;

  async function ok<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const answer = await app.graphql(query, variables);
    if (answer.errors) throw new Error(`GraphQL errors: ${JSON.stringify(answer.errors)}`);
    return answer.data as T;
  }

  async function list(filter: unknown, orderBy?: unknown, first = 100, after?: string) {
    return (
      await ok(
        `query ($filter: InvoiceFilterInput, $orderBy: [InvoiceOrderByInput!], $first: Int, $after: String) {
          invoices(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
            edges { node { ${SELECTION} } cursor } pageInfo { hasNextPage endCursor } totalCount } }`,
        { filter, orderBy, first, after },
      )
    ).invoices;
  }

  beforeAll(async () => {
    app = await startTestApp(kind, { role: 'api' });
    workspaceId = (await ok('{ currentWorkspace { id } }')).currentWorkspace.id;
    const invoice = (await ok('mutation { createOneObject(input: { object: { nameSingular: "invoice", namePlural: "invoices", labelSingular: "Invoice", labelPlural: "Invoices" } }) { id } }'))
      .createOneObject.id;
    const companyObject = (await ok('{ objects { edges { node { id nameSingular } } } }')).objects.edges.find((edge: any) => edge.node.nameSingular === 'company').node.id;
    const fields = [
      { type: 'TEXT', name: 'note' },
      { type: 'NUMBER', name: 'total' },
      { type: 'SELECT', name: 'status', options: [{ value: 'DRAFT', label: 'Draft' }, { value: 'SENT', label: 'Sent' }, { value: 'PAID', label: 'Paid' }] },
      { type: 'MULTI_SELECT', name: 'tags', options: [{ value: 'URGENT', label: 'Urgent' }, { value: 'EXPORT', label: 'Export' }] },
      { type: 'DATE', name: 'dueOn' },
      { type: 'DATE_TIME', name: 'paidAt' },
      { type: 'CURRENCY', name: 'amount' },
      { type: 'RELATION', name: 'company', relationCreationPayload: { targetObjectMetadataId: companyObject, type: 'MANY_TO_ONE' } },
    ];
    for (const field of fields) {
      await ok('mutation ($input: CreateOneFieldMetadataInput!) { createOneField(input: $input) { id } }', {
        input: { field: { objectMetadataId: invoice, label: field.name, ...field } },
      });
    }
    acmeId = (await ok('mutation { createCompany(data: { name: "Acme", employees: 50 }) { id } }')).createCompany.id;
    await ok('mutation { createCompany(data: { name: "Tiny", employees: 2 }) { id } }');
    const rows = [
      { note: 'Alpha order', total: 10, status: 'DRAFT', tags: ['URGENT'], dueOn: '2024-03-01', paidAt: null, amount: { amountMicros: 1_000_000, currencyCode: 'EUR' }, companyId: acmeId },
      { note: 'beta order', total: 20.5, status: 'SENT', tags: [], dueOn: '2024-03-04', paidAt: '2024-03-04T10:00:00Z', amount: { amountMicros: 5_000_000, currencyCode: 'USD' } },
      { note: 'Gamma', total: null, status: 'PAID', tags: ['URGENT', 'EXPORT'], dueOn: null, paidAt: '2024-03-05T00:00:00Z', amount: { amountMicros: 250_000_000, currencyCode: 'EUR' } },
      { note: null, total: -3, status: 'SENT', tags: null, dueOn: '2024-02-28', paidAt: null, amount: null, companyId: acmeId },
      { note: 'delta_%', total: 20.5, status: null, tags: ['EXPORT'], dueOn: '2024-03-04', paidAt: '2024-03-01T12:30:00Z', amount: { amountMicros: null, currencyCode: 'EUR' } },
    ];
    invoices = (await ok(`mutation ($data: [InvoiceCreateInput!]!) { createInvoices(data: $data) { ${SELECTION} } }`, { data: rows })).createInvoices;
    await ok('mutation { createPerson(data: { firstName: "Ada", lastName: "Lovelace" }) { id } }');
  });
  afterAll(async () => {
    await app?.close();
  });

  const filters: Array<[string, unknown]> = [
    ['eq on a SELECT', { status: { eq: 'SENT' } }],
    ['neq skips NULL as SQL does', { status: { neq: 'SENT' } }],
    ['in', { status: { in: ['DRAFT', 'PAID'] } }],
    ['is NULL', { status: { is: 'NULL' } }],
    ['is NOT_NULL on TEXT', { note: { is: 'NOT_NULL' } }],
    ['gt on NUMBER', { total: { gt: 10 } }],
    ['lte on NUMBER', { total: { lte: 10 } }],
    ['like', { note: { like: '%order' } }],
    ['ilike', { note: { ilike: 'ALPHA%' } }],
    ['like with an escaped wildcard', { note: { like: 'delta\\_\\%' } }],
    ['text ordered comparison by code point', { note: { gt: 'Zeta' } }],
    ['containsAny on MULTI_SELECT', { tags: { containsAny: ['EXPORT'] } }],
    ['DATE eq a day', { dueOn: { eq: '2024-03-04' } }],
    ['DATE gt an instant within a day', { dueOn: { gt: '2024-03-01T12:00:00Z' } }],
    ['DATE lte an instant within a day', { dueOn: { lte: '2024-03-01T12:00:00Z' } }],
    ['DATE in', { dueOn: { in: ['2024-03-01', '2024-02-28T05:00:00Z'] } }],
    ['DATE_TIME gte', { paidAt: { gte: '2024-03-04T10:00:00.000Z' } }],
    ['DATE_TIME lt in another zone', { paidAt: { lt: '2024-03-04T12:00:00+02:00' } }],
    ['CURRENCY amountMicros', { amount: { amountMicros: { gte: 5_000_000 } } }],
    ['CURRENCY currencyCode', { amount: { currencyCode: { eq: 'EUR' } } }],
    ['CURRENCY amountMicros is NULL', { amount: { amountMicros: { is: 'NULL' } } }],
    ['RELATION eq', { companyId: { eq: 'ACME' } }],
    ['and / or / not', { or: [{ status: { eq: 'PAID' } }, { and: [{ total: { gt: 0 } }, { not: { note: { ilike: '%beta%' } } }] }] }],
    ['not of an unknown stays unknown', { not: { total: { gt: 0 } } }],
    ['createdAt', { createdAt: { gte: '2000-01-01T00:00:00Z' } }],
  ];

  it.each(filters)('%s: the database answers exactly what the in-memory evaluator of webhook filters answers', async (_name, raw) => {
    const filter = JSON.parse(JSON.stringify(raw).replace('"ACME"', JSON.stringify(acmeId)));
    const answer = await list(filter);
    const model = buildDataModel((await loadWorkspaceMetadata(app.server.database.db, workspaceId))!);
    const parsed = parseRecordFilter(filter, filterDescriptors(model.bySingular.get('invoice')!));
    const expected = invoices.filter((record) => evaluateRecordFilter(parsed, record)).map((record) => record.id).sort();
    expect(answer.edges.map((edge: any) => edge.node.id).sort()).toEqual(expected);
    expect(answer.totalCount).toBe(expected.length);
  });

  it('filters standard objects on standard and custom fields; REST takes the same filter as JSON', async () => {
    const companies = await ok('{ companies(filter: { employees: { gt: 10 } }) { edges { node { name } } } }');
    expect(companies.companies.edges.map((edge: any) => edge.node.name)).toEqual(['Acme']);
    const people = await ok('{ people(filter: { lastName: { ilike: "love%" } }) { totalCount } }');
    expect(people.people.totalCount).toBe(1);
    const rest = await app.rest('GET', `/rest/invoices?filter=${encodeURIComponent(JSON.stringify({ status: { eq: 'SENT' } }))}&orderBy=${encodeURIComponent('[{"total":"AscNullsFirst"}]')}`);
    expect(rest.status).toBe(200);
    expect(rest.body.data.invoices.map((record: any) => record.total)).toEqual([-3, 20.5]);
    const badJson = await app.rest('GET', '/rest/invoices?filter={nope');
    expect(badJson.status).toBe(422);
    expect(badJson.body.error.field).toBe('filter');
  });

  const orders: Array<[string, unknown, (a: any, b: any) => number]> = [
    ['total AscNullsLast', [{ total: 'AscNullsLast' }], (a, b) => nullsLast(a.total, b.total) || a.total - b.total],
    ['total DescNullsFirst', [{ total: 'DescNullsFirst' }], (a, b) => nullsFirst(a.total, b.total) || b.total - a.total],
    ['dueOn DescNullsLast, then status AscNullsFirst', [{ dueOn: 'DescNullsLast' }, { status: 'AscNullsFirst' }], (a, b) =>
      nullsLast(a.dueOn, b.dueOn) || compareText(b.dueOn, a.dueOn) || nullsFirst(a.status, b.status) || compareText(a.status, b.status)],
    ['amount AscNullsFirst (by amountMicros)', [{ amount: 'AscNullsFirst' }], (a, b) =>
      nullsFirst(a.amount?.amountMicros ?? null, b.amount?.amountMicros ?? null) || (a.amount?.amountMicros ?? 0) - (b.amount?.amountMicros ?? 0)],
  ];

  it.each(orders)('orders by %s and pages through it with cursors, two at a time', async (_name, orderBy, compare) => {
    const expected = [...invoices]
      .sort((a, b) => compare(a, b) || compareText(a.createdAt, b.createdAt) || compareText(a.id, b.id))
      .map((record) => record.id);
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await list(undefined, orderBy, 2, after);
      seen.push(...page.edges.map((edge: any) => edge.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected);
  });

  it('bounds cost: first up to the maximum, filter depth and size, orderBy terms; errors name the bad part', async () => {
    const tooMany = await app.graphql(`{ invoices(first: ${MAX_PAGE_SIZE + 1}) { totalCount } }`);
    expect(tooMany.errors?.[0].message).toMatch(new RegExp(`first: must be a whole number from 1 to ${MAX_PAGE_SIZE}`));
    expect((await list(undefined, undefined, MAX_PAGE_SIZE)).totalCount).toBe(invoices.length);
    let deep: Record<string, unknown> = { total: { gt: 0 } };
    for (let level = 0; level < 12; level++) deep = { not: deep };
    const tooDeep = await app.graphql('query ($filter: InvoiceFilterInput) { invoices(filter: $filter) { totalCount } }', { filter: deep });
    expect(tooDeep.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(tooDeep.errors?.[0].message).toMatch(/^filter(\.not)+/);
    const wide = await app.graphql('query ($filter: InvoiceFilterInput) { invoices(filter: $filter) { totalCount } }', {
      filter: { or: Array.from({ length: 150 }, () => ({ total: { gt: 0 } })) },
    });
    expect(wide.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const badOption = await app.graphql('{ invoices(filter: { status: { eq: "LOST" } }) { totalCount } }');
    expect(badOption.errors?.[0].extensions?.field).toBe('filter.status.eq');
    const unorderable = await app.rest('GET', `/rest/invoices?orderBy=${encodeURIComponent('[{"tags":"AscNullsFirst"}]')}`);
    expect(unorderable.status).toBe(422);
    expect(unorderable.body.error.field).toBe('orderBy[0].tags');
    const foreignCursor = await app.graphql(`{ invoices(orderBy: [{ total: AscNullsFirst }], after: "${(await list(undefined, undefined, 1)).pageInfo.endCursor}") { totalCount } }`);
    expect(foreignCursor.errors?.[0].extensions?.field).toBe('after');
  });

  it('refuses unstorable custom values and crafted cursors, naming the argument, and stores nothing', async () => {
    const before = (await list(undefined)).totalCount;
    const create = 'mutation ($data: InvoiceCreateInput!) { createInvoice(data: $data) { id } }';
    const refusals: Array<[Record<string, unknown>, string]> = [
      [{ note: 'lone \ud800 surrogate' }, 'data.note'],
      [{ note: 'nul \u0000 byte' }, 'data.note'],
      [{ dueOn: '0000-12-31' }, 'data.dueOn'],
    ];
    for (const [data, field] of refusals) {
      const answer = await app.graphql(create, { data });
      expect(answer.errors?.[0].extensions, JSON.stringify(data)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    // A DATE_TIME is refused by the DateTime scalar while the variables are read, naming the variable's field.
    const yearZero = await app.graphql(create, { data: { paidAt: '0000-12-31T23:59:59Z' } });
    expect(yearZero.status).toBe(400);
    expect(yearZero.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(yearZero.errors?.[0].message).toMatch(/paidAt.*0001-01-01/);
    expect((await list(undefined)).totalCount).toBe(before);

    const ordered = 'query ($after: String) { invoices(orderBy: [{ note: AscNullsFirst }], after: $after) { totalCount } }';
    const id = invoices[0].id;
    const crafted = [
      ['2024-03-01T00:00:00.000Z', id, 'nul \u0000 value'],
      ['0000-01-01T00:00:00.000Z', id, 'a'],
      ['2024-03-01T00:00:00.000Z', 'not-a-uuid', 'a'],
      ['2024-03-01T00:00:00.000Z', id, 'x'.repeat(20_000)],
    ];
    for (const position of crafted) {
      const after = Buffer.from(JSON.stringify(position)).toString('base64url');
      const answer = await app.graphql(ordered, { after });
      expect(answer.errors?.[0].extensions, JSON.stringify(position).slice(0, 80)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    }
    // A cursor this API wrote for an order by text is read back.
    const first = (await list(undefined, [{ note: 'AscNullsFirst' }], 2)).pageInfo.endCursor;
    expect((await list(undefined, [{ note: 'AscNullsFirst' }], 2, first)).edges.length).toBeGreaterThan(0);
  });

  it('applies the GraphQL cost limits to /metadata and to the generated records API', async () => {
    const flood = `{ ${Array.from({ length: 60 }, (_, index) => `a${index}: invoices(first: 200) { edges { node { id } } }`).join(' ')} }`;
    const refused = await app.graphql(flood);
    expect(refused.status).toBe(400);
    expect(refused.errors?.[0].extensions?.code).toBe('QUERY_TOO_COMPLEX');
    const response = await fetch(`${app.url}/metadata`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${app.apiKey}` },
      body: JSON.stringify({ query: `{ ${'currentWorkspace { id } '.repeat(6_000)} }` }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(body.errors[0].message).toContain('SWITCHBOARD_GRAPHQL_MAX_TOKENS');
  });

  it('answers filters on an indexed custom field from its expression index', async () => {
    const model = buildDataModel((await loadWorkspaceMetadata(app.server.database.db, workspaceId))!);
    const invoice = model.bySingular.get('invoice')!;
    const descriptors = filterDescriptors(invoice);
    const plans: string[] = [];
    for (const filter of [{ status: { eq: 'SENT' } }, { amount: { amountMicros: { gt: 1 } } }, { dueOn: { lt: '2024-03-02' } }, { companyId: { eq: acmeId } }]) {
      const condition = compileRecordFilter(invoice, parseRecordFilter(filter, descriptors));
      await app.server.database.db.transaction().execute(async (trx) => {
        // Few rows: the planner would rightly scan; forbid it to show the index matches the query's expression.
        await sql`SET LOCAL enable_seqscan = off`.execute(trx);
        const plan = await sql<{ 'QUERY PLAN': string }>`
          EXPLAIN SELECT * FROM custom_records WHERE ${recordScope(invoice, workspaceId)} AND ${condition}
        `.execute(trx);
        plans.push(plan.rows.map((row) => row['QUERY PLAN']).join('\n'));
      });
    }
    for (const plan of plans) expect(plan).toMatch(/Index (Only )?Scan using field_[0-9a-f]{32}|Bitmap Index Scan on field_[0-9a-f]{32}/);
  });
});

function nullsLast(a: unknown, b: unknown): number {
  if (a === null && b === null) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return 0;
}

function nullsFirst(a: unknown, b: unknown): number {
  return -nullsLast(a, b);
}

function compareText(a: string | null, b: string | null): number {
  if (a === b || a === null || b === null) return 0;
  return a < b ? -1 : 1;
}
