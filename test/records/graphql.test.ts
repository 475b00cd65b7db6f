import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES } from '../../src/domain/payload.ts';
import { OBJECTS, type StandardObjectName as ObjectName } from '../../src/domain/records.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { eventsOf, selection, snapshotCounts, type StoredEventRow } from './support.ts';

describe.each(DATABASE_KINDS)('records over GraphQL on %s', (kind) => {
  let app: TestApp;
  let companyId: string;
  let personId: string;

  async function ok<T = any>(query: string, variables?: Record<string, unknown>, apiKey?: string): Promise<T> {
    const result = await app.graphql(query, variables, apiKey);
    if (result.errors) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    return result.data as T;
  }

  async function create(object: ObjectName, data: Record<string, unknown>, apiKey?: string) {
    const type = OBJECTS[object].typeName;
    const result = await ok(`mutation ($data: ${type}CreateInput!) { create${type}(data: $data) { ${selection(object)} } }`, { data }, apiKey);
    return result[`create${type}`];
  }

  beforeAll(async () => {
    app = await startTestApp(kind);
    companyId = (await create('company', { name: 'Referenced Co' })).id;
    personId = (await create('person', { firstName: 'Referenced', companyId })).id;
  });
  afterAll(async () => {
    await app?.close();
  });

  const cases: Record<ObjectName, () => { create: Record<string, unknown>; update: Record<string, unknown> }> = {
    person: () => ({
      create: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', jobTitle: 'Engineer', phone: '+44 20', city: 'London', companyId },
      update: { jobTitle: 'CTO', city: 'Paris', lastName: 'Lovelace' },
    }),
    company: () => ({
      create: { name: 'Acme', domainName: 'acme.example', employees: 10, address: '1 Road' },
      update: { employees: 11, address: null },
    }),
    opportunity: () => ({
      create: { name: 'Deal', amount: 1000.5, stage: 'NEW', closeDate: '2024-06-01T00:00:00.000Z', companyId, pointOfContactId: personId },
      update: { amount: 2000, stage: 'WON', closeDate: '2024-07-01' },
    }),
  };

  describe.each(Object.keys(cases) as ObjectName[])('%s', (object) => {
    const { typeName: type } = OBJECTS[object];
    const fields = selection(object);

    it('stores exactly one event with the right record, previousRecord and updatedFields for each of the five actions', async () => {
      const { create: createData, update: updateData } = cases[object]();
      const seen = new Set<string>();
      const nextEvent = async (id: string): Promise<StoredEventRow> => {
        const fresh = (await eventsOf(app, id)).filter((event) => !seen.has(event.id));
        expect(fresh).toHaveLength(1);
        seen.add(fresh[0].id);
        return fresh[0];
      };

      const created = await create(object, createData);
      expect(created).toMatchObject({ ...createData, deletedAt: null });
      expect(created.createdAt).toBe(created.updatedAt);
      const createdEvent = await nextEvent(created.id);
      expect(createdEvent).toMatchObject({ operation: `${object}.created`, previous_record: null, updated_fields: null });
      expect(createdEvent.record).toEqual(created);
      expect(Object.keys(createdEvent.record)).toEqual(fields.split(' '));
      expect(createdEvent.created_at.toISOString()).toBe(created.updatedAt);

      const updated = (await ok(`mutation ($id: UUID!, $data: ${type}UpdateInput!) { update${type}(id: $id, data: $data) { ${fields} } }`, {
        id: created.id,
        data: updateData,
      }))[`update${type}`];
      const updatedEvent = await nextEvent(created.id);
      expect(updatedEvent.operation).toBe(`${object}.updated`);
      expect(updatedEvent.record).toEqual(updated);
      expect(updatedEvent.previous_record).toEqual(created);
      // Fields given with their current value (person's lastName) are not changes.
      const changed = Object.keys(updateData).filter((name) => JSON.stringify(created[name]) !== JSON.stringify(updated[name]));
      expect(updatedEvent.updated_fields).toEqual(OBJECTS[object].fields.map((field) => field.name).filter((name) => changed.includes(name)));
      expect(updatedEvent.updated_fields!.length).toBeGreaterThan(0);
      expect(updatedEvent.created_at.toISOString()).toBe(updated.updatedAt);

      const deleted = (await ok(`mutation ($id: UUID!) { delete${type}(id: $id) { ${fields} } }`, { id: created.id }))[`delete${type}`];
      expect(deleted.deletedAt).toBeTruthy();
      const deletedEvent = await nextEvent(created.id);
      expect(deletedEvent).toMatchObject({ operation: `${object}.deleted`, record: deleted, previous_record: updated, updated_fields: ['deletedAt'] });

      // Soft-deleted: still readable by id (so it can be restored).
      expect((await ok(`query ($id: UUID!) { ${object}(id: $id) { id deletedAt } }`, { id: created.id }))[object].deletedAt).toBe(deleted.deletedAt);

      const restored = (await ok(`mutation ($id: UUID!) { restore${type}(id: $id) { ${fields} } }`, { id: created.id }))[`restore${type}`];
      expect(restored.deletedAt).toBeNull();
      const restoredEvent = await nextEvent(created.id);
      expect(restoredEvent).toMatchObject({ operation: `${object}.restored`, record: restored, previous_record: deleted, updated_fields: ['deletedAt'] });

      const destroyed = (await ok(`mutation ($id: UUID!) { destroy${type}(id: $id) { ${fields} } }`, { id: created.id }))[`destroy${type}`];
      expect(destroyed).toEqual(restored);
      const destroyedEvent = await nextEvent(created.id);
      expect(destroyedEvent).toMatchObject({ operation: `${object}.destroyed`, record: restored, previous_record: restored, updated_fields: null });

      const gone = await app.graphql(`query ($id: UUID!) { ${object}(id: $id) { id } }`, { id: created.id });
      expect(gone.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      expect(gone.data?.[object]).toBeNull();
    });

    it('stores nothing for an update, delete or restore that changes nothing, and keeps updatedAt', async () => {
      const { create: createData } = cases[object]();
      const created = await create(object, createData);
      const before = await eventsOf(app, created.id);
      const same = (await ok(`mutation ($id: UUID!, $data: ${type}UpdateInput!) { update${type}(id: $id, data: $data) { ${fields} } }`, {
        id: created.id,
        data: createData,
      }))[`update${type}`];
      expect(same).toEqual(created);
      const restored = (await ok(`mutation ($id: UUID!) { restore${type}(id: $id) { ${fields} } }`, { id: created.id }))[`restore${type}`];
      expect(restored).toEqual(created);
      expect(await eventsOf(app, created.id)).toEqual(before);

      await ok(`mutation ($id: UUID!) { delete${type}(id: $id) { id } }`, { id: created.id });
      const afterDelete = await eventsOf(app, created.id);
      const again = (await ok(`mutation ($id: UUID!) { delete${type}(id: $id) { ${fields} } }`, { id: created.id }))[`delete${type}`];
      expect(again.updatedAt).toBe(afterDelete.at(-1)!.record.updatedAt);
      expect(await eventsOf(app, created.id)).toHaveLength(afterDelete.length);
    });
  });

  it('answers not found for unknown ids and for another workspace’s ids, changing nothing', async () => {
    const other = await app.createWorkspace(`records-other-${kind}`);
    const before = await snapshotCounts(app);
    for (const id of [randomUUID(), companyId]) {
      for (const query of [
        'query ($id: UUID!) { company(id: $id) { id name } }',
        'mutation ($id: UUID!) { updateCompany(id: $id, data: { name: "stolen" }) { id } }',
        'mutation ($id: UUID!) { deleteCompany(id: $id) { id } }',
        'mutation ($id: UUID!) { restoreCompany(id: $id) { id } }',
        'mutation ($id: UUID!) { destroyCompany(id: $id) { id } }',
      ]) {
        const result = await app.graphql(query, { id }, other.apiKey);
        expect(result.errors?.[0].extensions?.code, query).toBe('NOT_FOUND');
        expect(JSON.stringify(result)).not.toContain('Referenced Co');
      }
    }
    // A reference to another workspace's company is refused with the field named.
    const crossReference = await app.graphql('mutation ($data: PersonCreateInput!) { createPerson(data: $data) { id } }', {
      data: { firstName: 'Mallory', companyId },
    }, other.apiKey);
    expect(crossReference.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'data.companyId' });
    expect(await snapshotCounts(app)).toEqual(before);
    expect((await ok('{ people { totalCount } }', {}, other.apiKey)).people.totalCount).toBe(0);
  });

  it('refuses bad input of every field type, naming the field, and stores nothing', async () => {
    const deletedCompany = await create('company', { name: 'Gone Co' });
    await ok('mutation ($id: UUID!) { deleteCompany(id: $id) { id } }', { id: deletedCompany.id });
    const before = await snapshotCounts(app);
    const attempts: Array<[ObjectName, Record<string, unknown>, string]> = [
      ['person', { firstName: 'x'.repeat(1001) }, 'data.firstName'],
      ['person', { email: 'not-an-email' }, 'data.email'],
      ['person', { companyId: randomUUID() }, 'data.companyId'],
      ['person', { companyId: deletedCompany.id }, 'data.companyId'],
      ['company', { employees: -3 }, 'data.employees'],
      ['company', { domainName: 'd'.repeat(2049) }, 'data.domainName'],
      ['opportunity', { stage: 'a\u0000b' }, 'data.stage'],
      ['opportunity', { pointOfContactId: companyId }, 'data.pointOfContactId'],
    ];
    for (const [object, data, field] of attempts) {
      const type = OBJECTS[object].typeName;
      const result = await app.graphql(`mutation ($data: ${type}CreateInput!) { create${type}(data: $data) { id } }`, { data });
      expect(result.errors?.[0].extensions, JSON.stringify(data)).toEqual({ code: 'BAD_USER_INPUT', field });
      expect(result.errors?.[0].message).toMatch(new RegExp(`^${field}: `));
    }
    // Wrong GraphQL types (a non-UUID id, a fraction for Int, a string for Float or DateTime, an unknown field) are
    // refused by GraphQL's own input coercion before any resolver runs; their messages are checked over REST,
    // where the same values reach Switchboard's validation.
    const coercion: Array<[ObjectName, Record<string, unknown>]> = [
      ['person', { companyId: 'not-a-uuid' }],
      ['company', { employees: 2.5 }],
      ['company', { nickname: 'Acme' }],
      ['opportunity', { amount: 'lots' }],
      ['opportunity', { closeDate: 'next week' }],
    ];
    for (const [object, data] of coercion) {
      const type = OBJECTS[object].typeName;
      const result = await app.graphql(`mutation ($data: ${type}CreateInput!) { create${type}(data: $data) { id } }`, { data });
      expect(result.status, JSON.stringify(data)).toBe(400);
      expect(result.data).toBeNull();
    }
    const update = await app.graphql('mutation ($id: UUID!) { updatePerson(id: $id, data: { email: "nope" }) { id } }', { id: personId });
    expect(update.errors?.[0].extensions?.field).toBe('data.email');
    expect(await snapshotCounts(app)).toEqual(before);
  });

  it('creates a batch in one transaction with one event per record, and refuses a batch naming the bad index', async () => {
    const before = await snapshotCounts(app);
    const bad = await app.graphql('mutation ($data: [PersonCreateInput!]!) { createPeople(data: $data) { id } }', {
      data: [{ firstName: 'a' }, { firstName: 'b' }, { firstName: 'c' }, { firstName: 'd', email: 'broken' }],
    });
    expect(bad.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'data[3].email' });
    const badReference = await app.graphql('mutation ($data: [PersonCreateInput!]!) { createPeople(data: $data) { id } }', {
      data: [{ firstName: 'a', companyId }, { firstName: 'b', companyId: randomUUID() }],
    });
    expect(badReference.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'data[1].companyId' });
    expect(await snapshotCounts(app)).toEqual(before);

    const data = Array.from({ length: 40 }, (_, index) => ({ firstName: `Batch ${index}`, companyId }));
    const created = (await ok(`mutation ($data: [PersonCreateInput!]!) { createPeople(data: $data) { ${selection('person')} } }`, { data })).createPeople;
    expect(created.map((person: { firstName: string }) => person.firstName)).toEqual(data.map((item) => item.firstName));
    const after = await snapshotCounts(app);
    expect(after.people - before.people).toBe(40);
    expect(after.events - before.events).toBe(40);
    for (const person of created) {
      const events = await eventsOf(app, person.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ operation: 'person.created', record: person, previous_record: null });
    }

    // A client-chosen id that is taken: refused, naming the index.
    const taken = await app.graphql('mutation ($data: [CompanyCreateInput!]!) { createCompanies(data: $data) { id } }', {
      data: [{ name: 'new' }, { id: companyId, name: 'dup' }],
    });
    expect(taken.errors?.[0].extensions).toEqual({ code: 'CONFLICT', field: 'data[1].id' });
  });

  it('refuses to destroy a company or person other records reference, and allows it once unlinked', async () => {
    const company = await create('company', { name: 'Linked' });
    const person = await create('person', { firstName: 'Linked', companyId: company.id });
    const before = await snapshotCounts(app);
    const refused = await app.graphql('mutation ($id: UUID!) { destroyCompany(id: $id) { id } }', { id: company.id });
    expect(refused.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(refused.errors?.[0].message).toMatch(/1 person \(companyId\)/);
    expect(await snapshotCounts(app)).toEqual(before);

    await ok('mutation ($id: UUID!) { updatePerson(id: $id, data: { companyId: null }) { id } }', { id: person.id });
    const destroyed = await ok('mutation ($id: UUID!) { destroyCompany(id: $id) { id name } }', { id: company.id });
    expect(destroyed.destroyCompany).toEqual({ id: company.id, name: 'Linked' });

    const contactRefused = await app.graphql('mutation ($id: UUID!) { destroyPerson(id: $id) { id } }', { id: personId });
    expect(contactRefused.errors?.[0].message).toMatch(/opportunit/);
  });

  it('pages through a list with cursors, excluding soft-deleted records unless asked', async () => {
    const other = await app.createWorkspace(`records-pages-${kind}`);
    const data = Array.from({ length: 7 }, (_, index) => ({ name: `Company ${index}` }));
    const created = (await ok('mutation ($data: [CompanyCreateInput!]!) { createCompanies(data: $data) { id } }', { data }, other.apiKey)).createCompanies;
    await ok('mutation ($id: UUID!) { deleteCompany(id: $id) { id } }', { id: created[2].id }, other.apiKey);

    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const result: any = (await ok(
        'query ($after: String) { companies(first: 2, after: $after) { edges { node { id name } cursor } pageInfo { hasNextPage endCursor } totalCount } }',
        { after },
        other.apiKey,
      )).companies;
      expect(result.totalCount).toBe(6);
      seen.push(...result.edges.map((edge: { node: { id: string } }) => edge.node.id));
      if (result.edges.length) expect(result.pageInfo.endCursor).toBe(result.edges.at(-1).cursor);
      if (!result.pageInfo.hasNextPage) break;
      after = result.pageInfo.endCursor;
    }
    const live = created.filter((_: unknown, index: number) => index !== 2).map((company: { id: string }) => company.id);
    // One batch shares createdAt: the order is by id within it.
    expect(seen).toEqual([...live].sort());
    const all = (await ok('{ companies(first: 200, includeDeleted: true) { totalCount edges { node { id } } } }', {}, other.apiKey)).companies;
    expect(all.totalCount).toBe(7);

    const badCursor = await app.graphql('{ companies(after: "garbage") { totalCount } }', {}, other.apiKey);
    expect(badCursor.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
    const badFirst = await app.graphql('{ companies(first: 0) { totalCount } }', {}, other.apiKey);
    expect(badFirst.errors?.[0].extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it('refuses a record whose event payload would exceed 1 MiB, storing nothing; accepts one that fits every event', async () => {
    const before = await snapshotCounts(app);
    const huge = await app.graphql('mutation ($data: CompanyCreateInput!) { createCompany(data: $data) { id } }', {
      data: { name: 'Huge', address: 'x'.repeat(MAX_PAYLOAD_BYTES) },
    });
    expect(huge.errors?.[0].extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(huge.errors?.[0].message).toMatch(/1 MiB/);
    // Its create event would fit, but a later delete event carries it twice: it could never be deleted.
    const half = await app.graphql('mutation ($data: CompanyCreateInput!) { createCompany(data: $data) { id } }', {
      data: { name: 'Half', address: 'x'.repeat(600_000) },
    });
    expect(half.errors?.[0].extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await snapshotCounts(app)).toEqual(before);

    const big = await create('company', { name: 'Big', address: 'x'.repeat(500_000) });
    const grow = await app.graphql('mutation ($id: UUID!, $address: String) { updateCompany(id: $id, data: { address: $address }) { id } }', {
      id: big.id,
      address: 'y'.repeat(560_000),
    });
    expect(grow.errors?.[0].extensions?.code).toBe('PAYLOAD_TOO_LARGE');
    expect((await ok('query ($id: UUID!) { company(id: $id) { address } }', { id: big.id })).company.address).toHaveLength(500_000);
    await ok('mutation ($id: UUID!) { deleteCompany(id: $id) { id } }', { id: big.id });
    await ok('mutation ($id: UUID!) { destroyCompany(id: $id) { id } }', { id: big.id });
    expect((await eventsOf(app, big.id)).map((event) => event.operation)).toEqual(['company.created', 'company.deleted', 'company.destroyed']);
  });
});
