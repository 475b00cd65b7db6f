import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

describe.each(DATABASE_KINDS)("an API key's last use on %s", (kind) => {
  let app: TestApp;
  let statements = 0;
  /** Statements that write a key's last use. */
  let keyUseWrites = 0;

  beforeAll(async () => {
    app = await startTestApp(kind, { role: 'api', onStatement: (node) => {
      statements += 1;
      if (node.kind === 'RawNode' && node.sqlFragments.join('').includes('UPDATE api_keys')) keyUseWrites += 1;
    } });
  });
  afterAll(async () => {
    await app?.close();
  });

  const storedLastUse = async (apiKeyId: string) =>
    (await app.server.database.db.selectFrom('api_keys').select('last_used_at').where('id', '=', apiKeyId).executeTakeFirstOrThrow()).last_used_at;

  it('is shown at once, written in one batch per flush, and never on the request path', async () => {
    const other = await app.createWorkspace('last-use');
    const [key] = (await app.graphql('{ apiKeys { id lastUsedAt } }', {}, other.apiKey)).data.apiKeys;
    expect(key.lastUsedAt).not.toBeNull();
    expect(await storedLastUse(key.id)).toBeNull();

    // Requests of two keys: none writes a key's last use on its path (other statements, such as the metadata
    // version's periodic re-read, may come and go).
    keyUseWrites = 0;
    for (let i = 0; i < 11; i++) await app.graphql('{ currentWorkspace { id } }', {}, i % 2 ? other.apiKey : app.apiKey);
    expect(keyUseWrites).toBe(0);

    statements = 0;
    await app.server.services.workspaces.flushKeyUse();
    expect(statements).toBe(1);
    expect(keyUseWrites).toBe(1);
    const written = await storedLastUse(key.id);
    expect(written).not.toBeNull();
    expect(Date.now() - new Date(written!).getTime()).toBeLessThan(60_000);

    statements = 0;
    await app.server.services.workspaces.flushKeyUse();
    expect(statements).toBe(0);
  });
});
