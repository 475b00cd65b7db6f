import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

describe.each(DATABASE_KINDS)('/rest/webhooks on %s', (kind) => {
  let app: TestApp;
  let webhookCount: () => Promise<number>;

  beforeAll(async () => {
    // role api: no delivery worker, so nothing is ever sent to the example.com targets used here.
    app = await startTestApp(kind, { role: 'api' });
    webhookCount = async () =>
      Number((await sql<{ n: string }>`SELECT count(*) AS n FROM webhooks`.execute(app.server.database.db)).rows[0].n);
  });
  afterAll(async () => {
    await app?.close();
  });

  it('creates (201, with the secret), lists, gets, patches both ways, rotates and deletes', async () => {
    const created = await app.rest('POST', '/rest/webhooks', {
      targetUrl: 'HTTPS://Example.com:443/rest',
      operations: ['opportunity.*'],
      description: 'rest',
    });
    expect(created.status).toBe(201);
    const webhook = created.body.data.createWebhook;
    expect(webhook).toMatchObject({ targetUrl: 'https://example.com/rest', operations: ['opportunity.*'], description: 'rest', status: 'ACTIVE', deletedAt: null });
    expect(webhook.secret).toMatch(/^whsec_/);

    const list = await app.rest('GET', '/rest/webhooks');
    expect(list.status).toBe(200);
    expect(list.body.data.webhooks).toContainEqual({ ...webhook, secret: null });
    const one = await app.rest('GET', `/rest/webhooks/${webhook.id}`);
    expect(one).toEqual({ status: 200, body: { data: { webhook: { ...webhook, secret: null } } } });

    const flat = await app.rest('PATCH', `/rest/webhooks/${webhook.id}`, { operations: ['person.created'], status: 'DISABLED' });
    expect(flat.status).toBe(200);
    expect(flat.body.data.updateWebhook).toMatchObject({ operations: ['person.created'], status: 'DISABLED', secret: null });
    const nested = await app.rest('PATCH', `/rest/webhooks/${webhook.id}`, { id: webhook.id, update: { description: 'nested' } });
    expect(nested.body.data.updateWebhook).toMatchObject({ description: 'nested', operations: ['person.created'], secret: null });

    const rotated = await app.rest('POST', `/rest/webhooks/${webhook.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.data.rotateWebhookSecret.secret).toMatch(/^whsec_/);
    expect(rotated.body.data.rotateWebhookSecret.secret).not.toBe(webhook.secret);
    expect((await app.rest('GET', `/rest/webhooks/${webhook.id}`)).body.data.webhook.secret).toBeNull();

    const deleted = await app.rest('DELETE', `/rest/webhooks/${webhook.id}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.data.deleteWebhook.deletedAt).toBeTruthy();
    expect(deleted.body.data.deleteWebhook.secret).toBeNull();
    expect((await app.rest('GET', `/rest/webhooks/${webhook.id}`)).status).toBe(404);
    expect((await app.rest('DELETE', `/rest/webhooks/${webhook.id}`)).status).toBe(404);
  });

  it('answers 400 for unreadable JSON, 422 naming the field for a wrong shape or a broken rule, 404 for an unknown id; stores nothing', async () => {
    const before = await webhookCount();
    const malformed: Array<[unknown, string]> = [
      [['https://example.com'], 'body'],
      [{ targetUrl: 42 }, 'targetUrl'],
      [{ targetUrl: 'https://example.com', operations: 'person.created' }, 'operations'],
      [{ targetUrl: 'https://example.com', operations: [1] }, 'operations[0]'],
      [{ targetUrl: 'https://example.com', operation: ['*.*'] }, 'operation'],
      [{ operations: ['*.*'] }, 'targetUrl'],
    ];
    for (const [body, field] of malformed) {
      const response = await app.rest('POST', '/rest/webhooks', body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(response.body.error).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(response.body.error.message).toBeTruthy();
    }
    const broken = await app.rest('POST', '/rest/webhooks', { targetUrl: 'https://example.com', operations: ['*.*', 'person.exploded'] });
    expect(broken.status).toBe(422);
    expect(broken.body.error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'operations[1]' });
    expect(broken.body.error.message).toMatch(/"person\.exploded" is not a valid operation/);
    const badUrl = await app.rest('POST', '/rest/webhooks', { targetUrl: 'mailto:me@example.com' });
    expect(badUrl.status).toBe(422);
    expect(badUrl.body.error.field).toBe('targetUrl');

    const raw = await fetch(`${app.url}/rest/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${app.apiKey}`, 'content-type': 'application/json' },
      body: '{"targetUrl": ',
    });
    expect(raw.status).toBe(400);
    expect(await webhookCount()).toBe(before);

    const unknown = '00000000-0000-4000-8000-000000000001';
    expect((await app.rest('GET', `/rest/webhooks/${unknown}`)).status).toBe(404);
    expect((await app.rest('GET', '/rest/webhooks/not-a-uuid')).status).toBe(404);
    expect((await app.rest('PATCH', `/rest/webhooks/${unknown}`, { description: 'x' })).status).toBe(404);
    expect((await app.rest('POST', `/rest/webhooks/${unknown}/rotate-secret`)).status).toBe(404);

    const existing = (await app.rest('POST', '/rest/webhooks', { targetUrl: 'https://example.com/existing' })).body.data.createWebhook;
    const conflict = await app.rest('POST', '/rest/webhooks', { id: existing.id, targetUrl: 'https://example.com/again' });
    expect(conflict.status).toBe(409);
    const mismatch = await app.rest('PATCH', `/rest/webhooks/${existing.id}`, { id: unknown, description: 'x' });
    expect(mismatch).toMatchObject({ status: 422, body: { error: { field: 'id' } } });
    const badPatch = await app.rest('PATCH', `/rest/webhooks/${existing.id}`, { update: { operations: ['nope'] }, description: 'changed' });
    expect(badPatch.status).toBe(422);
    expect(badPatch.body.error.field).toBe('update.operations[0]');
    const badStatus = await app.rest('PATCH', `/rest/webhooks/${existing.id}`, { status: 'PAUSED' });
    expect(badStatus.status).toBe(422);
    expect((await app.rest('GET', `/rest/webhooks/${existing.id}`)).body.data.webhook).toEqual({ ...existing, secret: null });
  });

  it('keeps workspaces apart', async () => {
    const mine = (await app.rest('POST', '/rest/webhooks', { targetUrl: 'https://example.com/mine-rest' })).body.data.createWebhook;
    const other = await app.createWorkspace(`rest-other-${kind}`);
    expect((await app.rest('GET', '/rest/webhooks', undefined, other.apiKey)).body.data.webhooks).toEqual([]);
    expect((await app.rest('GET', `/rest/webhooks/${mine.id}`, undefined, other.apiKey)).status).toBe(404);
    expect((await app.rest('PATCH', `/rest/webhooks/${mine.id}`, { status: 'DISABLED' }, other.apiKey)).status).toBe(404);
    expect((await app.rest('DELETE', `/rest/webhooks/${mine.id}`, undefined, other.apiKey)).status).toBe(404);
    expect((await app.rest('POST', `/rest/webhooks/${mine.id}/rotate-secret`, undefined, other.apiKey)).status).toBe(404);
    expect((await app.rest('GET', `/rest/webhooks/${mine.id}`)).body.data.webhook).toEqual({ ...mine, secret: null });
  });
});
