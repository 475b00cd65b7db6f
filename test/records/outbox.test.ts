import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { eventsOf, snapshotCounts } from './support.ts';

describe.each(DATABASE_KINDS)('record writes and their events commit together on %s', (kind) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp(kind);
    const db = app.server.database.db;
    // A failure at COMMIT, after the record and its event were written: a deferred constraint trigger fires at
    // commit time and aborts the transaction for events whose record has firstName "crash-at-commit".
    await sql`
      CREATE FUNCTION test_crash_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.record->>'firstName' = 'crash-at-commit' THEN RAISE EXCEPTION 'simulated crash at commit'; END IF;
        RETURN NULL;
      END $$
    `.execute(db);
    await sql`
      CREATE CONSTRAINT TRIGGER crash_at_commit AFTER INSERT ON events
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_crash_at_commit()
    `.execute(db);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('leaves neither record nor event when the transaction fails at commit', async () => {
    const before = await snapshotCounts(app);
    const created = await app.graphql('mutation { createPerson(data: { firstName: "crash-at-commit" }) { id } }');
    expect(created.errors?.[0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    const batch = await app.graphql('mutation { createPeople(data: [{ firstName: "fine" }, { firstName: "crash-at-commit" }]) { id } }');
    expect(batch.errors).toBeDefined();
    expect(await snapshotCounts(app)).toEqual(before);

    const person = (await app.graphql('mutation { createPerson(data: { firstName: "Grace" }) { id firstName updatedAt } }')).data.createPerson;
    const update = await app.graphql('mutation ($id: UUID!) { updatePerson(id: $id, data: { firstName: "crash-at-commit" }) { id } }', { id: person.id });
    expect(update.errors).toBeDefined();
    const after = (await app.graphql('query ($id: UUID!) { person(id: $id) { id firstName updatedAt } }', { id: person.id })).data.person;
    expect(after).toEqual(person);
    expect((await eventsOf(app, person.id)).map((event) => event.operation)).toEqual(['person.created']);
  });

  it('gives each of many concurrent updates of one record the state the previous one wrote (no lost update)', async () => {
    const person = (await app.graphql('mutation { createPerson(data: { firstName: "Concurrent", jobTitle: "start" }) { id } }')).data.createPerson;
    const writers = 10;
    const results = await Promise.all(
      Array.from({ length: writers }, (_, index) =>
        app.graphql('mutation ($id: UUID!, $title: String) { updatePerson(id: $id, data: { jobTitle: $title }) { jobTitle } }', {
          id: person.id,
          title: `title-${index}`,
        }),
      ),
    );
    expect(results.every((result) => !result.errors)).toBe(true);

    const updates = (await eventsOf(app, person.id)).filter((event) => event.operation === 'person.updated');
    expect(updates).toHaveLength(writers);
    // The events form one chain from "start": each previousRecord is exactly what the write before it stored.
    const byPrevious = new Map(updates.map((event) => [event.previous_record!.jobTitle, event]));
    expect(byPrevious.size).toBe(writers);
    let title: unknown = 'start';
    let previous: Record<string, unknown> | undefined;
    for (let step = 0; step < writers; step++) {
      const event = byPrevious.get(title);
      expect(event, `no update saw jobTitle ${String(title)}`).toBeDefined();
      if (previous) expect(event!.previous_record).toEqual(previous);
      expect(event!.updated_fields).toEqual(['jobTitle']);
      previous = event!.record;
      title = event!.record.jobTitle;
    }
    const final = (await app.graphql('query ($id: UUID!) { person(id: $id) { jobTitle updatedAt } }', { id: person.id })).data.person;
    expect(final).toEqual({ jobTitle: title, updatedAt: previous!.updatedAt });
  });
});
