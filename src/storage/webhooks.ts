import { sql, type Kysely } from 'kysely';
import type { DB, WebhookDisabledReason, WebhookOrdering, WebhookStatus } from './schema.ts';

/** A webhook as stored: `secret` and `previousSecret` are as sealed by the secret box. */
export interface WebhookRow {
  id: string;
  workspaceId: string;
  targetUrl: string;
  operations: string[];
  description: string | null;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  status: WebhookStatus;
  failingSince: Date | null;
  /** The record filter as the caller gave it (parsed JSON); null: every record. */
  filter: unknown | null;
  /** For updated events: the field names one must touch; null: any change. */
  fields: string[] | null;
  ordering: WebhookOrdering;
  /** Why it is DISABLED (null while ACTIVE). */
  disabledReason: WebhookDisabledReason | null;
  disabledAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

const webhookColumns = [
  'id',
  'workspace_id as workspaceId',
  'target_url as targetUrl',
  'operations',
  'description',
  'secret',
  'previous_secret as previousSecret',
  'previous_secret_expires_at as previousSecretExpiresAt',
  'status',
  'failing_since as failingSince',
  'filter',
  'fields',
  'ordering',
  'disabled_reason as disabledReason',
  'disabled_at as disabledAt',
  'created_at as createdAt',
  'updated_at as updatedAt',
  'deleted_at as deletedAt',
] as const;

export type NewWebhookRow = Pick<
  WebhookRow,
  'id' | 'workspaceId' | 'targetUrl' | 'operations' | 'description' | 'secret' | 'filter' | 'fields' | 'ordering' | 'createdAt'
>;

/** Replaces the matching index rows of one webhook; call in the transaction that writes webhooks.operations. */
async function writeOperationIndex(trx: Kysely<DB>, webhookId: string, workspaceId: string, operations: string[]): Promise<void> {
  await trx.deleteFrom('webhook_operations').where('webhook_id', '=', webhookId).execute();
  await trx
    .insertInto('webhook_operations')
    .values(operations.map((operation) => ({ webhook_id: webhookId, workspace_id: workspaceId, operation })))
    .execute();
}

/**
 * Inserts a webhook and its matching index rows: `taken` when the id is already taken (in any workspace), `full`
 * when the workspace already has `maxPerWorkspace` webhooks that are not deleted (0: no limit).
 */
export async function insertWebhook(db: Kysely<DB>, row: NewWebhookRow, maxPerWorkspace = 0): Promise<WebhookRow | 'taken' | 'full'> {
  return db.transaction().execute(async (trx) => {
    if (maxPerWorkspace > 0) {
      // The workspace row's lock orders concurrent creates, so together they cannot pass the limit.
      await trx.selectFrom('workspaces').select('id').where('id', '=', row.workspaceId).forUpdate().execute();
      const { count } = await trx
        .selectFrom('webhooks')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('workspace_id', '=', row.workspaceId)
        .where('deleted_at', 'is', null)
        .executeTakeFirstOrThrow();
      if (Number(count) >= maxPerWorkspace) return 'full';
    }
    const inserted = await trx
      .insertInto('webhooks')
      .values({
        id: row.id,
        workspace_id: row.workspaceId,
        target_url: row.targetUrl,
        operations: row.operations,
        description: row.description,
        secret: row.secret,
        filter: row.filter === null ? null : JSON.stringify(row.filter),
        fields: row.fields,
        ordering: row.ordering,
        status: 'ACTIVE',
        created_at: row.createdAt,
        updated_at: row.createdAt,
      })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .returning(webhookColumns)
      .executeTakeFirst();
    if (!inserted) return 'taken';
    await writeOperationIndex(trx, row.id, row.workspaceId, row.operations);
    return inserted;
  });
}

/** A webhook of the workspace that is not deleted. */
export async function findWebhook(db: Kysely<DB>, workspaceId: string, id: string): Promise<WebhookRow | undefined> {
  return db
    .selectFrom('webhooks')
    .select(webhookColumns)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
}

/** The workspace's webhooks that are not deleted, oldest first. */
export async function listWebhooks(db: Kysely<DB>, workspaceId: string): Promise<WebhookRow[]> {
  return db
    .selectFrom('webhooks')
    .select(webhookColumns)
    .where('workspace_id', '=', workspaceId)
    .where('deleted_at', 'is', null)
    .orderBy('created_at', 'asc')
    .orderBy('id', 'asc')
    .execute();
}

export interface WebhookChanges {
  targetUrl?: string;
  operations?: string[];
  description?: string | null;
  status?: WebhookStatus;
  /** Replaces the secret; the previous one is dropped at once. */
  secret?: string;
  /** A new record filter (null clears it). */
  filter?: unknown | null;
  /** A new fields list (null clears it). */
  fields?: string[] | null;
  ordering?: WebhookOrdering;
  /** With status ACTIVE: when the webhook was DISABLED, forget when it started failing (its failure window starts afresh). */
  resetFailingSinceIfDisabled?: boolean;
}

/**
 * Updates a live webhook of the workspace and its matching index, inside the caller's transaction `trx` (see
 * updateWebhookAnnounced, which adds the webhook.disabled event); undefined when there is none.
 */
export async function updateWebhookIn(
  trx: Kysely<DB>,
  workspaceId: string,
  id: string,
  changes: WebhookChanges,
  at: Date,
): Promise<WebhookRow | undefined> {
  const updated = await trx
    .updateTable('webhooks')
    .set({
      updated_at: at,
      ...(changes.targetUrl !== undefined ? { target_url: changes.targetUrl } : {}),
      ...(changes.operations !== undefined ? { operations: changes.operations } : {}),
      ...(changes.description !== undefined ? { description: changes.description } : {}),
      ...(changes.status !== undefined ? { status: changes.status } : {}),
      // Disabling keeps the reason of a webhook already disabled (a 410 stays a 410); enabling clears it.
      ...(changes.status === 'DISABLED'
        ? {
            disabled_reason: sql<WebhookDisabledReason | null>`CASE WHEN status = 'ACTIVE' THEN 'BY_USER' ELSE disabled_reason END`,
            disabled_at: sql<Date | null>`CASE WHEN status = 'ACTIVE' THEN ${at.toISOString()}::timestamptz ELSE disabled_at END`,
          }
        : {}),
      ...(changes.status === 'ACTIVE' ? { disabled_reason: null, disabled_at: null } : {}),
      ...(changes.filter !== undefined ? { filter: changes.filter === null ? null : JSON.stringify(changes.filter) } : {}),
      ...(changes.fields !== undefined ? { fields: changes.fields } : {}),
      ...(changes.ordering !== undefined ? { ordering: changes.ordering } : {}),
      ...(changes.secret !== undefined ? { secret: changes.secret, previous_secret: null, previous_secret_expires_at: null } : {}),
      ...(changes.resetFailingSinceIfDisabled
        ? { failing_since: sql<Date | null>`CASE WHEN status = 'DISABLED' THEN NULL ELSE failing_since END` }
        : {}),
    })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returning(webhookColumns)
    .executeTakeFirst();
  if (updated && changes.operations !== undefined) await writeOperationIndex(trx, id, workspaceId, changes.operations);
  return updated;
}

/** Soft-deletes a live webhook of the workspace; the fan-out skips it from this commit on. */
export async function softDeleteWebhook(db: Kysely<DB>, workspaceId: string, id: string, at: Date): Promise<WebhookRow | undefined> {
  return db
    .updateTable('webhooks')
    .set({ deleted_at: at, updated_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returning(webhookColumns)
    .executeTakeFirst();
}

/** Makes `newSecret` current and keeps the current one as previous until `previousExpiresAt`, in one statement. */
export async function rotateWebhookSecret(
  db: Kysely<DB>,
  workspaceId: string,
  id: string,
  newSecret: string,
  previousExpiresAt: Date,
  at: Date,
): Promise<WebhookRow | undefined> {
  return db
    .updateTable('webhooks')
    .set((eb) => ({
      previous_secret: eb.ref('secret'),
      previous_secret_expires_at: previousExpiresAt,
      secret: newSecret,
      updated_at: at,
    }))
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .returning(webhookColumns)
    .executeTakeFirst();
}

/**
 * Ids of the workspace's ACTIVE, live webhooks whose patterns include one of `candidates` (see
 * matchCandidates): an index lookup on webhook_operations_match, then one primary-key probe of webhooks per
 * match for its status. The order is fixed (OFFSET 0 keeps the lateral probe from being merged into a join the
 * planner may turn around): with statistics taken while most webhooks were disabled, the planner would expect
 * one active webhook, scan them all and compare each with every subscription, on every write.
 */
export function matchingWebhookIdsQuery(db: Kysely<DB>, workspaceId: string, candidates: string[]) {
  return db
    .selectFrom('webhook_operations as o')
    .innerJoinLateral(
      (eb) =>
        eb
          .selectFrom('webhooks as w')
          .select('w.id')
          .whereRef('w.id', '=', 'o.webhook_id')
          .where('w.status', '=', 'ACTIVE')
          .where('w.deleted_at', 'is', null)
          .offset(0)
          .as('live'),
      (join) => join.onTrue(),
    )
    .select('live.id')
    .distinct()
    .where('o.workspace_id', '=', workspaceId)
    .where('o.operation', 'in', candidates);
}

export async function findMatchingWebhookIds(db: Kysely<DB>, workspaceId: string, candidates: string[]): Promise<string[]> {
  const rows = await matchingWebhookIdsQuery(db, workspaceId, candidates).execute();
  return rows.map((row) => row.id);
}

/** A matching webhook with its screen (contract §10): the filter as JSON text and the fields list. */
export interface MatchedWebhook {
  id: string;
  filterJson: string | null;
  fields: string[] | null;
}

/** matchingWebhookIdsQuery with each webhook's screen, read by the same primary-key probe. */
export function matchingWebhooksQuery(db: Kysely<DB>, workspaceId: string, candidates: string[]) {
  return db
    .selectFrom('webhook_operations as o')
    .innerJoinLateral(
      (eb) =>
        eb
          .selectFrom('webhooks as w')
          .select(['w.id', sql<string | null>`w.filter::text`.as('filterJson'), 'w.fields'])
          .whereRef('w.id', '=', 'o.webhook_id')
          .where('w.status', '=', 'ACTIVE')
          .where('w.deleted_at', 'is', null)
          .offset(0)
          .as('live'),
      (join) => join.onTrue(),
    )
    .select(['live.id', 'live.filterJson', 'live.fields'])
    .distinct()
    .where('o.workspace_id', '=', workspaceId)
    .where('o.operation', 'in', candidates);
}

export async function findMatchingWebhooks(db: Kysely<DB>, workspaceId: string, candidates: string[]): Promise<MatchedWebhook[]> {
  return matchingWebhooksQuery(db, workspaceId, candidates).execute();
}

/** The plan PostgreSQL chooses for the matching lookup, as text lines (for tests and diagnostics). */
export async function explainMatchingLookup(db: Kysely<DB>, workspaceId: string, candidates: string[]): Promise<string[]> {
  const compiled = matchingWebhookIdsQuery(db, workspaceId, candidates).compile();
  const result = await db.executeQuery<{ 'QUERY PLAN': string }>({
    ...compiled,
    sql: `EXPLAIN ${compiled.sql}`,
  });
  return result.rows.map((row) => row['QUERY PLAN']);
}

/** The stored (sealed or plain) secrets of one webhook, deleted ones included. */
export interface StoredSecretRow {
  id: string;
  secret: string;
  previousSecret: string | null;
}

/** One page, in id order, of every webhook's stored secrets (deleted webhooks too: their rows still hold them). */
export async function listStoredSecrets(db: Kysely<DB>, afterId: string | null, limit: number): Promise<StoredSecretRow[]> {
  let query = db.selectFrom('webhooks').select(['id', 'secret', 'previous_secret as previousSecret']).orderBy('id').limit(limit);
  if (afterId !== null) query = query.where('id', '>', afterId);
  return query.execute();
}

/**
 * Replaces a webhook's stored secrets only if they are still exactly `expected` (compare and set), so a rotation
 * or update that landed since they were read is never overwritten with the older secret. Answers whether it did.
 */
export async function replaceStoredSecrets(db: Kysely<DB>, expected: StoredSecretRow, next: Omit<StoredSecretRow, 'id'>): Promise<boolean> {
  const result = await db
    .updateTable('webhooks')
    .set({ secret: next.secret, previous_secret: next.previousSecret })
    .where('id', '=', expected.id)
    .where('secret', '=', expected.secret)
    .where((eb) =>
      expected.previousSecret === null ? eb('previous_secret', 'is', null) : eb('previous_secret', '=', expected.previousSecret),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** One webhook's stored secrets, or undefined once it is gone. */
export async function findStoredSecrets(db: Kysely<DB>, id: string): Promise<StoredSecretRow | undefined> {
  return db.selectFrom('webhooks').select(['id', 'secret', 'previous_secret as previousSecret']).where('id', '=', id).executeTakeFirst();
}
