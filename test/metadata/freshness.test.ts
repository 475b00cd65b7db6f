import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startSwitchboard, type RunningSwitchboard } from '../../src/server.ts';
import { openDatabase } from '../../src/storage/database.ts';
import { TEST_API_KEY } from '../helpers/app.ts';
import { createPostgresDatabase } from '../helpers/databases.ts';
import { serverGroup } from '../helpers/processes.ts';

/** How soon another API process must serve a metadata change (CONTRACT.md section 9: within a second). */
const FRESHNESS_MS = 1_000;

// Two API processes share one database only on PostgreSQL (PGlite is one process).
describe.skipIf(!process.env.DATABASE_URL)('a metadata change reaches every API process on postgres', () => {
  const servers = serverGroup();
  let inProcess: RunningSwitchboard;
  let drop: () => Promise<void>;
  let otherUrl: string;

  async function graphql(url: string, query: string): Promise<{ data: any; errors?: Array<{ message: string }> }> {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}` },
      body: JSON.stringify({ query }),
    });
    return (await response.json()) as { data: any; errors?: Array<{ message: string }> };
  }

  /** Milliseconds until `read` holds on the other process, polling every 20 ms (fails past twice the bound). */
  async function millisecondsUntil(read: () => Promise<boolean>): Promise<number> {
    const started = performance.now();
    while (!(await read())) {
      if (performance.now() - started > FRESHNESS_MS * 2) throw new Error('the other process never saw the change');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return performance.now() - started;
  }

  beforeAll(async () => {
    const created = await createPostgresDatabase();
    drop = created.drop;
    const database = await openDatabase({ databaseUrl: created.url });
    inProcess = await startSwitchboard({
      config: loadConfig({ PORT: '0', HOST: '127.0.0.1', SWITCHBOARD_API_KEY: TEST_API_KEY }),
      role: 'api',
      database,
      logger: pino({ level: 'silent' }),
    });
    const other = servers.serve({ DATABASE_URL: created.url, SWITCHBOARD_API_KEY: TEST_API_KEY }, ['--role', 'api']);
    [, otherUrl] = (await other.waitFor(/GraphQL: (http:\/\/\S+)\/graphql/, 60_000)) as unknown as [string, string];
  });
  afterAll(async () => {
    await servers.cleanup();
    await inProcess?.stop();
    await inProcess?.database.close();
    await drop?.();
  });

  it('serves a new object, a new field and a deactivation on the other process within a second, without a restart', async () => {
    // The other process has cached this workspace's data model.
    expect((await graphql(otherUrl, '{ objects { totalCount } }')).data.objects.totalCount).toBe(3);
    expect((await graphql(otherUrl, '{ invoices { totalCount } }')).errors?.[0]?.message).toMatch(/invoices/);

    const object = await graphql(inProcess.url!, 'mutation { createOneObject(input: { object: { nameSingular: "invoice", namePlural: "invoices", labelSingular: "I", labelPlural: "Is" } }) { id } }');
    expect(await millisecondsUntil(async () => !(await graphql(otherUrl, '{ invoices { totalCount } }')).errors)).toBeLessThan(FRESHNESS_MS);

    const field = await graphql(
      inProcess.url!,
      `mutation { createOneField(input: { field: { objectMetadataId: "${object.data.createOneObject.id}", type: TEXT, name: "note", label: "Note" } }) { id } }`,
    );
    expect(await millisecondsUntil(async () => !(await graphql(otherUrl, 'mutation { createInvoice(data: { note: "hi" }) { note } }')).errors)).toBeLessThan(
      FRESHNESS_MS,
    );

    await graphql(inProcess.url!, `mutation { updateOneField(input: { id: "${field.data.createOneField.id}", update: { isActive: false } }) { id } }`);
    expect(await millisecondsUntil(async () => Boolean((await graphql(otherUrl, '{ invoices { edges { node { note } } } }')).errors))).toBeLessThan(FRESHNESS_MS);
  });
});
