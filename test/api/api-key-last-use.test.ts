import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

describe.each(DATABASE_KINDS)("an API key's last use on %s", (kind) => {
  let app: TestApp;
  let statements = 0;

  beforeAll(async () => {
    app = await startTestApp(kind, { role: 'api', onStatement: () => (statements += 1) });
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

    // Requests of two keys: each request runs the same statements as one that records nothing would.
    statements = 0;
    await app.graphql('{ currentWorkspace { id } }', {}, other.apiKey);
    const perRequest = statements;
    for (let i = 0; i < 10; i++) await app.graphql('{ currentWorkspace { id } }', {}, i % 2 ? other.apiKey : app.apiKey);
    expect(statements).toBe(perRequest * 11);

    statements = 0;
    await app.server.services.workspaces.flushKeyUse();
    expect(statements).toBe(1);
    const written = await storedLastUse(key.id);
    expect(written).not.toBeNull();
    expect(Date.now() - new Date(written!).getTime()).toBeLessThan(60_000);

    statements = 0;
    await app.server.services.workspaces.flushKeyUse();
    expect(statements).toBe(0);
  });
});
