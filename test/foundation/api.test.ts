import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

describe.each(DATABASE_KINDS)('API foundation on %s', (kind) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp(kind);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers /healthz', async () => {
    const response = await fetch(`${app.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers an authenticated GraphQL query', async () => {
    const result = await app.graphql('{ currentWorkspace { id name } }');
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    expect(result.data.currentWorkspace.name).toBe('default');
  });

  it('refuses a missing or wrong key with 401 and UNAUTHENTICATED', async () => {
    for (const authorization of [undefined, 'Bearer sb_wrong_key_000000000000', 'Basic abc']) {
      const response = await fetch(`${app.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ query: '{ currentWorkspace { id } }' }),
      });
      expect(response.status).toBe(401);
      const body = await response.json();
      expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(body.data).toBeNull();
    }
    const rest = await app.rest('GET', '/rest/webhooks', undefined, 'nope-nope-nope-nope');
    expect(rest.status).toBe(401);
    expect(rest.body.error.code).toBe('UNAUTHENTICATED');
  });

  it('keeps two workspaces apart: keys, lists and ids', async () => {
    const other = await app.createWorkspace(`other-${kind}`);
    const mine = await app.graphql('mutation { createApiKey(name: "ci") { id key keyPrefix } }');
    expect(mine.data.createApiKey.key).toMatch(/^sb_/);
    expect(mine.data.createApiKey.keyPrefix).toBe(mine.data.createApiKey.key.slice(0, 11));

    const theirs = await app.graphql('{ currentWorkspace { id name } apiKeys { id key } }', {}, other.apiKey);
    expect(theirs.data.currentWorkspace).toEqual({ id: other.workspaceId, name: `other-${kind}` });
    expect(theirs.data.apiKeys.map((key: { id: string }) => key.id)).not.toContain(mine.data.createApiKey.id);
    expect(theirs.data.apiKeys.every((key: { key: string | null }) => key.key === null)).toBe(true);

    const revokeAcross = await app.graphql(
      'mutation ($id: UUID!) { revokeApiKey(id: $id) { id } }',
      { id: mine.data.createApiKey.id },
      other.apiKey,
    );
    expect(revokeAcross.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    const stillWorks = await app.graphql('{ currentWorkspace { name } }', {}, mine.data.createApiKey.key);
    expect(stillWorks.data.currentWorkspace.name).toBe('default');
  });

  it('stops accepting a revoked key', async () => {
    const created = await app.graphql('mutation { createApiKey(name: "temp") { id key } }');
    const { id, key } = created.data.createApiKey;
    const revoked = await app.graphql('mutation ($id: UUID!) { revokeApiKey(id: $id) { revokedAt } }', { id });
    expect(revoked.data.revokeApiKey.revokedAt).toBeTruthy();
    const after = await app.graphql('{ currentWorkspace { id } }', {}, key);
    expect(after.status).toBe(401);
  });

  it('names a malformed UUID argument', async () => {
    const result = await app.graphql('mutation { revokeApiKey(id: "not-a-uuid") { id } }');
    expect(result.errors?.[0].message).toMatch(/UUID/);
    expect(result.data).toBeNull();
  });
});
