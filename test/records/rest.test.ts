import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { eventsOf, snapshotCounts } from './support.ts';

describe.each(DATABASE_KINDS)('records over REST on %s', (kind) => {
  let app: TestApp;
  let companyId: string;

  beforeAll(async () => {
    app = await startTestApp(kind);
    const created = await app.rest('POST', '/rest/companies', { name: 'Acme', employees: 5 });
    companyId = created.body.data.createCompany.id;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('runs the whole lifecycle with proper statuses and one event per write', async () => {
    const created = await app.rest('POST', '/rest/opportunities', { name: 'Deal', amount: 99.5, closeDate: '2024-06-01', companyId });
    expect(created.status).toBe(201);
    const opportunity = created.body.data.createOpportunity;
    expect(opportunity).toMatchObject({ name: 'Deal', amount: 99.5, closeDate: '2024-06-01T00:00:00.000Z', companyId, deletedAt: null });
    const path = `/rest/opportunities/${opportunity.id}`;

    expect(await app.rest('GET', path)).toEqual({ status: 200, body: { data: { opportunity } } });
    const patched = await app.rest('PATCH', path, { stage: 'WON' });
    expect(patched.status).toBe(200);
    expect(patched.body.data.updateOpportunity.stage).toBe('WON');
    const deleted = await app.rest('DELETE', path);
    expect(deleted.status).toBe(200);
    expect(deleted.body.data.deleteOpportunity.deletedAt).toBeTruthy();
    const restored = await app.rest('POST', `${path}/restore`);
    expect(restored.status).toBe(200);
    expect(restored.body.data.restoreOpportunity.deletedAt).toBeNull();
    const destroyed = await app.rest('DELETE', `${path}?hard=true`);
    expect(destroyed).toEqual({ status: 200, body: { data: { destroyOpportunity: restored.body.data.restoreOpportunity } } });
    expect((await app.rest('GET', path)).status).toBe(404);

    const events = await eventsOf(app, opportunity.id);
    expect(events.map((event) => event.operation)).toEqual([
      'opportunity.created',
      'opportunity.updated',
      'opportunity.deleted',
      'opportunity.restored',
      'opportunity.destroyed',
    ]);
    expect(events[1].updated_fields).toEqual(['stage']);
  });

  it('creates a batch from an array, on /rest/people and /rest/batch/people', async () => {
    const before = await snapshotCounts(app);
    const created = await app.rest('POST', '/rest/people', [{ firstName: 'A', companyId }, { firstName: 'B' }]);
    expect(created.status).toBe(201);
    expect(created.body.data.createPeople.map((person: { firstName: string }) => person.firstName)).toEqual(['A', 'B']);
    const batch = await app.rest('POST', '/rest/batch/people', [{ firstName: 'C' }]);
    expect(batch.status).toBe(201);
    const after = await snapshotCounts(app);
    expect([after.people - before.people, after.events - before.events]).toEqual([3, 3]);

    const refused = await app.rest('POST', '/rest/people', [{ firstName: 'D' }, { email: 'nope' }]);
    expect(refused).toMatchObject({ status: 422, body: { error: { code: 'BAD_USER_INPUT', field: 'body[1].email' } } });
    expect(await snapshotCounts(app)).toEqual(after);
  });

  it('answers 422 naming the field for every field type, 400 for unreadable JSON, and stores nothing', async () => {
    const before = await snapshotCounts(app);
    const attempts: Array<[string, unknown, string]> = [
      ['/rest/people', { firstName: 7 }, 'body.firstName'],
      ['/rest/people', { email: 'ada-at-example' }, 'body.email'],
      ['/rest/people', { companyId: 'not-a-uuid' }, 'body.companyId'],
      ['/rest/people', { companyId: randomUUID() }, 'body.companyId'],
      ['/rest/people', { nickname: 'x' }, 'body.nickname'],
      ['/rest/people', { updatedAt: '2024-01-01' }, 'body.updatedAt'],
      ['/rest/companies', { employees: 2.5 }, 'body.employees'],
      ['/rest/companies', { employees: '12' }, 'body.employees'],
      ['/rest/opportunities', { amount: 'lots' }, 'body.amount'],
      ['/rest/opportunities', { closeDate: '2024-02-30' }, 'body.closeDate'],
      ['/rest/opportunities', { pointOfContactId: companyId }, 'body.pointOfContactId'],
      ['/rest/people', 'Ada', 'body'],
    ];
    for (const [path, body, field] of attempts) {
      const response = await app.rest('POST', path, body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(response.body.error).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(response.body.error.message).toMatch(new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')}: `));
    }
    const patch = await app.rest('PATCH', `/rest/companies/${companyId}`, { employees: -1 });
    expect(patch.body.error).toMatchObject({ field: 'body.employees' });
    expect(patch.status).toBe(422);

    const malformed = await fetch(`${app.url}/rest/people`, {
      method: 'POST',
      headers: { authorization: `Bearer ${app.apiKey}`, 'content-type': 'application/json' },
      body: '{"firstName": ',
    });
    expect(malformed.status).toBe(400);
    expect(await snapshotCounts(app)).toEqual(before);
  });

  it('answers 404 for unknown, malformed and foreign ids', async () => {
    const other = await app.createWorkspace(`rest-other-${kind}`);
    for (const [method, path] of [
      ['GET', `/rest/companies/${randomUUID()}`],
      ['GET', '/rest/companies/not-an-id'],
      ['GET', `/rest/companies/${companyId}`],
      ['PATCH', `/rest/companies/${companyId}`],
      ['DELETE', `/rest/companies/${companyId}`],
      ['DELETE', `/rest/companies/${companyId}?hard=true`],
      ['POST', `/rest/companies/${companyId}/restore`],
    ] as const) {
      const response = await app.rest(method, path, method === 'PATCH' ? { name: 'x' } : undefined, other.apiKey);
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body.error.code).toBe('NOT_FOUND');
    }
    expect((await app.rest('GET', `/rest/companies/${companyId}`)).body.data.company.name).toBe('Acme');
  });

  it('answers 413 for an oversized record and 409 for destroying a referenced one', async () => {
    const before = await snapshotCounts(app);
    const huge = await app.rest('POST', '/rest/companies', { name: 'Huge', address: 'x'.repeat(1_100_000) });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await snapshotCounts(app)).toEqual(before);

    await app.rest('POST', '/rest/people', { firstName: 'Holder', companyId });
    const refused = await app.rest('DELETE', `/rest/companies/${companyId}?hard=true`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('CONFLICT');
  });

  it('lists with limit and cursor', async () => {
    const other = await app.createWorkspace(`rest-pages-${kind}`);
    await app.rest('POST', '/rest/companies', Array.from({ length: 5 }, (_, index) => ({ name: `C${index}` })), other.apiKey);
    const first = await app.rest('GET', '/rest/companies?limit=3', undefined, other.apiKey);
    expect(first.status).toBe(200);
    expect(first.body.data.companies).toHaveLength(3);
    expect(first.body).toMatchObject({ totalCount: 5, pageInfo: { hasNextPage: true } });
    const second = await app.rest('GET', `/rest/companies?limit=3&cursor=${first.body.pageInfo.endCursor}`, undefined, other.apiKey);
    expect(second.body.data.companies).toHaveLength(2);
    expect(second.body.pageInfo.hasNextPage).toBe(false);
    const ids = [...first.body.data.companies, ...second.body.data.companies].map((company: { id: string }) => company.id);
    expect(new Set(ids).size).toBe(5);

    const badLimit = await app.rest('GET', '/rest/companies?limit=abc', undefined, other.apiKey);
    expect(badLimit).toMatchObject({ status: 422, body: { error: { field: 'limit' } } });
    const badCursor = await app.rest('GET', '/rest/companies?cursor=zzz', undefined, other.apiKey);
    expect(badCursor).toMatchObject({ status: 422, body: { error: { field: 'cursor' } } });
  });
});
