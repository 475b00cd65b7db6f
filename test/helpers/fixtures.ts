import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB, WebhookStatus } from '../../src/storage/schema.ts';
import { appendEvents, type NewEvent } from '../../src/storage/events.ts';
import { dispatchAllFanouts } from '../../src/storage/queue/index.ts';
import type { SecretBox } from '../../src/webhooks/secret-box.ts';
import { openSigningSecrets } from '../../src/webhooks/secrets.ts';

/**
 * Inserts a webhook row straight into storage (plain secret), for tests of the delivery side that should not
 * depend on the management API. Prefer the GraphQL API in end-to-end tests.
 */
export async function insertWebhookRow(
  db: Kysely<DB>,
  values: { workspaceId: string; targetUrl: string; operations?: string[]; secret?: string; status?: WebhookStatus },
): Promise<{ id: string; secret: string }> {
  const id = randomUUID();
  const now = new Date();
  const operations = values.operations ?? ['*.*'];
  const secret = values.secret ?? `whsec_${Buffer.from(randomUUID()).toString('base64')}`;
  await db
    .insertInto('webhooks')
    .values({
      id,
      workspace_id: values.workspaceId,
      target_url: values.targetUrl,
      operations,
      secret,
      status: values.status ?? 'ACTIVE',
      created_at: now,
      updated_at: now,
    })
    .execute();
  await db
    .insertInto('webhook_operations')
    .values(operations.map((operation) => ({ webhook_id: id, workspace_id: values.workspaceId, operation })))
    .execute();
  return { id, secret };
}

export async function insertWorkspaceRow(db: Kysely<DB>, name = `ws-${randomUUID()}`): Promise<string> {
  const id = randomUUID();
  await db.insertInto('workspaces').values({ id, name }).execute();
  return id;
}

/** Appends sample person events in one transaction and creates their deliveries (fan-out); returns them. */
export async function insertSampleEvents(
  db: Kysely<DB>,
  workspaceId: string,
  count: number,
  operation = 'person.created',
): Promise<NewEvent[]> {
  const events = await appendSampleEvents(db, workspaceId, count, operation);
  // Their delivery rows now, as a worker would right after the commit.
  await dispatchAllFanouts(db);
  return events;
}

/** Appends sample person events in one transaction, leaving their fan-outs to a worker, as a record write does. */
export async function appendSampleEvents(
  db: Kysely<DB>,
  workspaceId: string,
  count: number,
  operation = 'person.created',
): Promise<NewEvent[]> {
  const events: NewEvent[] = Array.from({ length: count }, (_, index) => {
    const recordId = randomUUID();
    return {
      id: randomUUID(),
      workspaceId,
      operation,
      recordId,
      record: { id: recordId, firstName: 'Ada', lastName: `Lovelace ${index}` },
      previousRecord: null,
      updatedFields: null,
      createdAt: new Date(),
    };
  });
  await db.transaction().execute((trx) => appendEvents(trx, events));
  return events;
}

/** A webhook's plain signing secrets at `now` (current first), opened from its stored row as the sender does. */
export async function signingSecretsOf(db: Kysely<DB>, box: SecretBox, webhookId: string, now = new Date()): Promise<string[]> {
  const row = await db
    .selectFrom('webhooks')
    .select(['secret', 'previous_secret as previousSecret', 'previous_secret_expires_at as previousSecretExpiresAt'])
    .where('id', '=', webhookId)
    .executeTakeFirstOrThrow();
  return openSigningSecrets(box, row, now);
}
