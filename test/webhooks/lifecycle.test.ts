import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DATABASE_KINDS } from '../helpers/databases.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { insertSampleEvents, signingSecretsOf } from '../helpers/fixtures.ts';
import type { Clock } from '../../src/domain/clock.ts';
import { createWebhookService } from '../../src/webhooks/service.ts';
import { ROTATION_GRACE_PERIOD_MS } from '../../src/webhooks/secrets.ts';
import { disableWebhooks } from '../../src/storage/queue/index.ts';

const ENCRYPTION_KEY = 'a test encryption key that is long enough';

describe.each(DATABASE_KINDS)('webhook secrets and lifecycle on %s', (kind) => {
  let app: TestApp;
  let now = new Date('2024-03-04T11:00:00.000Z');
  const clock: Clock = { now: () => now };

  beforeAll(async () => {
    app = await startTestApp(kind, { role: 'api', clock, env: { SWITCHBOARD_ENCRYPTION_KEY: ENCRYPTION_KEY } });
  });
  afterAll(async () => {
    await app?.close();
  });

  const webhooks = () => app.server.services.webhooks;
  const workspaceId = () => app.server.bootstrap.workspaceId;
  /** The signing secrets the sender would use, at the test clock's now unless told otherwise. */
  const signingSecrets = (id: string, at = now) => signingSecretsOf(app.server.database.db, webhooks().secretBox, id, at);
  /** What the delivery engine does on 410 Gone; answers the ids it disabled. */
  const disableAsGone = (id: string) => disableWebhooks(app.server.database.db, [id], now);
  const rawRow = (id: string) =>
    app.server.database.db.selectFrom('webhooks').select(['secret', 'previous_secret', 'status', 'failing_since']).where('id', '=', id).executeTakeFirstOrThrow();

  it('encrypts secrets at rest when SWITCHBOARD_ENCRYPTION_KEY is set', async () => {
    const plain = 'my-own-secret-0123456789';
    const created = await app.graphql('mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id secret } }', {
      input: { targetUrl: 'https://example.com/encrypted', secret: plain },
    });
    const { id, secret } = created.data.createWebhook;
    expect(secret).toBe(plain);
    const stored = await rawRow(id);
    expect(stored.secret).toMatch(/^enc:v1:/);
    expect(stored.secret).not.toContain(plain);
    expect(await signingSecrets(id)).toEqual([plain]);

    const rotated = (await app.graphql('mutation ($id: UUID!) { rotateWebhookSecret(id: $id) { secret } }', { id })).data.rotateWebhookSecret.secret;
    const afterRotation = await rawRow(id);
    expect(afterRotation.secret).not.toContain(rotated);
    expect(afterRotation.previous_secret).toMatch(/^enc:v1:/);
    expect(afterRotation.previous_secret).not.toContain(plain);
  });

  it('keeps the previous secret for signing for 24 h after a rotation, then drops it', async () => {
    now = new Date('2024-03-04T11:00:00.000Z');
    const created = await webhooks().create(workspaceId(), { targetUrl: 'https://example.com/rotate' });
    now = new Date('2024-03-05T08:00:00.000Z');
    const rotated = await webhooks().rotateSecret(workspaceId(), created.id);
    const rotatedAt = now.getTime();

    expect(await signingSecrets(created.id)).toEqual([rotated.secret, created.secret]);
    expect(await signingSecrets(created.id, new Date(rotatedAt + ROTATION_GRACE_PERIOD_MS - 1))).toEqual([rotated.secret, created.secret]);
    expect(await signingSecrets(created.id, new Date(rotatedAt + ROTATION_GRACE_PERIOD_MS))).toEqual([rotated.secret]);

    // A second rotation keeps only the secret it replaced, with a fresh grace period.
    now = new Date(rotatedAt + 60_000);
    const again = await webhooks().rotateSecret(workspaceId(), created.id);
    expect(await signingSecrets(created.id)).toEqual([again.secret, rotated.secret]);

    // Setting a secret by update replaces it at once: no grace period.
    await webhooks().update(workspaceId(), { id: created.id, update: { secret: 'replaced-secret-0123456789' } });
    expect(await signingSecrets(created.id)).toEqual(['replaced-secret-0123456789']);
  });

  it('stops fan-out at once on disable or soft delete, and re-enabling starts the failure window afresh', async () => {
    const events = () => insertSampleEvents(app.server.database.db, workspaceId(), 1, 'person.created');
    const deliveriesFor = async (webhookId: string) =>
      (await app.server.database.db.selectFrom('deliveries').select('id').where('webhook_id', '=', webhookId).execute()).length;

    const disabled = await webhooks().create(workspaceId(), { targetUrl: 'https://example.com/to-disable', operations: ['person.*'] });
    const deleted = await webhooks().create(workspaceId(), { targetUrl: 'https://example.com/to-delete', operations: ['*.created'] });
    await events();
    expect(await deliveriesFor(disabled.id)).toBe(1);
    expect(await deliveriesFor(deleted.id)).toBe(1);

    await app.server.database.db.updateTable('webhooks').set({ failing_since: now }).where('id', '=', disabled.id).execute();
    expect(await disableAsGone(disabled.id)).toEqual([disabled.id]);
    expect(await disableAsGone(disabled.id)).toEqual([]);
    await webhooks().delete(workspaceId(), deleted.id);
    await events();
    expect(await deliveriesFor(disabled.id)).toBe(1);
    expect(await deliveriesFor(deleted.id)).toBe(1);
    expect((await rawRow(disabled.id)).status).toBe('DISABLED');
    expect((await rawRow(disabled.id)).failing_since).not.toBeNull();

    const enabled = await webhooks().update(workspaceId(), { id: disabled.id, status: 'ACTIVE' });
    expect(enabled.status).toBe('ACTIVE');
    expect((await rawRow(disabled.id)).failing_since).toBeNull();
    await events();
    expect(await deliveriesFor(disabled.id)).toBe(2);
  });

  it('records why and when a webhook was disabled, keeps the first reason, and clears it on re-enable', async () => {
    now = new Date('2024-03-06T10:00:00.000Z');
    const query = `query ($id: UUID!) { webhook(id: $id) { status disabledReason disabledAt } }`;
    const setStatus = `mutation ($id: UUID!, $status: WebhookStatus!) { updateWebhook(input: { id: $id, status: $status }) { status disabledReason disabledAt } }`;
    const created = await webhooks().create(workspaceId(), { targetUrl: 'https://example.com/reasons' });
    expect(created).toMatchObject({ disabledReason: null, disabledAt: null });

    expect(await disableAsGone(created.id)).toEqual([created.id]);
    expect((await app.graphql(query, { id: created.id })).data.webhook).toEqual({ status: 'DISABLED', disabledReason: 'GONE_410', disabledAt: now.toISOString() });
    // Disabling by hand what is already disabled keeps the reason it has.
    now = new Date('2024-03-06T11:00:00.000Z');
    expect((await app.graphql(setStatus, { id: created.id, status: 'DISABLED' })).data.updateWebhook).toEqual({
      status: 'DISABLED', disabledReason: 'GONE_410', disabledAt: '2024-03-06T10:00:00.000Z',
    });
    expect((await app.graphql(setStatus, { id: created.id, status: 'ACTIVE' })).data.updateWebhook).toEqual({ status: 'ACTIVE', disabledReason: null, disabledAt: null });
    expect((await app.graphql(setStatus, { id: created.id, status: 'DISABLED' })).data.updateWebhook).toEqual({
      status: 'DISABLED', disabledReason: 'BY_USER', disabledAt: now.toISOString(),
    });
    expect((await app.rest('GET', `/rest/webhooks/${created.id}`)).body.data.webhook).toMatchObject({ disabledReason: 'BY_USER', disabledAt: now.toISOString() });
    // Another workspace neither sees nor changes it.
    const other = await app.createWorkspace(`reasons-${randomUUID()}`);
    expect((await app.graphql(setStatus, { id: created.id, status: 'ACTIVE' }, other.apiKey)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await app.graphql(query, { id: created.id }, other.apiKey)).data.webhook).toBeNull();
  });

  it('applies production rules: https only and no private targets', async () => {
    const production = createWebhookService({
      db: app.server.database.db,
      config: { encryptionKey: ENCRYPTION_KEY, production: true, allowPrivateTargets: false, maxWebhooksPerWorkspace: 100 },
      clock,
      logger: pino({ level: 'silent' }),
    });
    await expect(production.create(workspaceId(), { targetUrl: 'http://example.com/' })).rejects.toThrow(/targetUrl: must use https: in production/);
    await expect(production.create(workspaceId(), { targetUrl: 'https://169.254.169.254/latest' })).rejects.toThrow(/private or link-local/);
    const existing = await production.create(workspaceId(), { targetUrl: 'https://example.com/prod' });
    await expect(production.update(workspaceId(), { id: existing.id, targetUrl: 'https://[::ffff:127.0.0.1]/' })).rejects.toThrow(/loopback/);
    expect((await production.get(workspaceId(), existing.id)).targetUrl).toBe('https://example.com/prod');
  });
});
