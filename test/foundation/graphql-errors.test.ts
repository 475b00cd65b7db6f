import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';

// Errors raised while reading variables come from graphql itself: they must reach the client as such,
// not be masked as internal errors.
describe('GraphQL input errors', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp('pglite', { role: 'api' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('names a bad enum value or UUID in variables', async () => {
    const badEnum = await app.graphql(
      'query ($s: DeliveryStatus) { webhookDeliveries(webhookId: "00000000-0000-0000-0000-000000000000", status: $s) { totalCount } }',
      { s: 'NOPE' },
    );
    expect(badEnum.errors?.[0].message).toMatch(/NOPE/);
    expect(badEnum.errors?.[0].extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
    const badUuid = await app.graphql('mutation ($id: UUID!) { deleteWebhook(id: $id) { id } }', { id: 'nope' });
    expect(badUuid.errors?.[0].message).toMatch(/UUID cannot represent "nope"/);
    expect(badUuid.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('answers 400 BAD_REQUEST, not an internal error, to a body the JSON parser refuses (a "__proto__" key)', async () => {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${app.apiKey}` },
      body: '{"query":"mutation ($data: PersonCreateInput!) { createPerson(data: $data) { id } }","variables":{"data":{"__proto__":1}}}',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.errors[0]!.extensions.code).toBe('BAD_REQUEST');
    expect(body.errors[0]!.message).toMatch(/not valid JSON/);
  });

  it('names an unknown field', async () => {
    const result = await app.graphql('{ currentWorkspace { id nonsense } }');
    expect(result.status).toBe(400);
    expect(result.errors?.[0].message).toMatch(/nonsense/);
    expect(result.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});

describe('DateTime', () => {
  it('refuses a day that does not exist instead of rolling it over', async () => {
    const { DateTime } = await import('../../src/api/graphql/scalars.ts');
    expect(DateTime.parseValue('2024-02-29T10:00:00Z')).toEqual(new Date('2024-02-29T10:00:00Z'));
    expect(() => DateTime.parseValue('2024-02-30T10:00:00Z')).toThrow(/DateTime cannot represent/);
    expect(() => DateTime.parseValue('2023-02-29')).toThrow(/DateTime cannot represent/);
    expect(() => DateTime.parseValue('yesterday')).toThrow(/DateTime cannot represent/);
  });
});
