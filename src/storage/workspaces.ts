import { sql, type Kysely } from 'kysely';
import type { DB } from './schema.ts';

export interface WorkspaceRow {
  id: string;
  name: string;
  createdAt: Date;
}

export interface ApiKeyRow {
  id: string;
  workspaceId: string;
  name: string;
  keyPrefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const apiKeyColumns = [
  'id',
  'workspace_id as workspaceId',
  'name',
  'key_prefix as keyPrefix',
  'created_at as createdAt',
  'last_used_at as lastUsedAt',
  'revoked_at as revokedAt',
] as const;

export async function findWorkspaceByName(db: Kysely<DB>, name: string): Promise<WorkspaceRow | undefined> {
  return db
    .selectFrom('workspaces')
    .select(['id', 'name', 'created_at as createdAt'])
    .where('name', '=', name)
    .executeTakeFirst();
}

export async function findWorkspaceById(db: Kysely<DB>, id: string): Promise<WorkspaceRow | undefined> {
  return db
    .selectFrom('workspaces')
    .select(['id', 'name', 'created_at as createdAt'])
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Inserts the workspace unless one of that name exists; returns it and whether it was created now. */
export async function insertWorkspaceIfAbsent(
  db: Kysely<DB>,
  workspace: { id: string; name: string },
): Promise<{ workspace: WorkspaceRow; created: boolean }> {
  const inserted = await db
    .insertInto('workspaces')
    .values(workspace)
    .onConflict((conflict) => conflict.column('name').doNothing())
    .returning(['id', 'name', 'created_at as createdAt'])
    .executeTakeFirst();
  if (inserted) return { workspace: inserted, created: true };
  const existing = await findWorkspaceByName(db, workspace.name);
  if (!existing) throw new Error(`workspace ${workspace.name} vanished while being created`);
  return { workspace: existing, created: false };
}

export async function countApiKeys(db: Kysely<DB>, workspaceId: string): Promise<number> {
  const row = await db
    .selectFrom('api_keys')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Inserts the key unless its hash is already stored (idempotent start with SWITCHBOARD_API_KEY). */
export async function insertApiKeyIfAbsent(
  db: Kysely<DB>,
  key: { id: string; workspaceId: string; name: string; keyHash: string; keyPrefix: string },
): Promise<ApiKeyRow | undefined> {
  return db
    .insertInto('api_keys')
    .values({
      id: key.id,
      workspace_id: key.workspaceId,
      name: key.name,
      key_hash: key.keyHash,
      key_prefix: key.keyPrefix,
    })
    .onConflict((conflict) => conflict.column('key_hash').doNothing())
    .returning(apiKeyColumns)
    .executeTakeFirst();
}

/** The workspace of an unrevoked key with this hash. */
export async function findActiveKeyByHash(
  db: Kysely<DB>,
  keyHash: string,
): Promise<{ id: string; workspaceId: string } | undefined> {
  return db
    .selectFrom('api_keys')
    .select(['id', 'workspace_id as workspaceId'])
    .where('key_hash', '=', keyHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
}

export async function listApiKeys(db: Kysely<DB>, workspaceId: string): Promise<ApiKeyRow[]> {
  return db
    .selectFrom('api_keys')
    .select(apiKeyColumns)
    .where('workspace_id', '=', workspaceId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

export async function revokeApiKey(db: Kysely<DB>, workspaceId: string, id: string, at: Date): Promise<ApiKeyRow | undefined> {
  return db
    .updateTable('api_keys')
    .set({ revoked_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returning(apiKeyColumns)
    .executeTakeFirst();
}

export async function findApiKey(db: Kysely<DB>, workspaceId: string, id: string): Promise<ApiKeyRow | undefined> {
  return db
    .selectFrom('api_keys')
    .select(apiKeyColumns)
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Sets each key's last use, never moving it back (another process may have written a later one). */
export async function recordApiKeyUses(db: Kysely<DB>, uses: Array<{ id: string; at: Date }>): Promise<void> {
  if (uses.length === 0) return;
  await sql`
    UPDATE api_keys SET last_used_at = GREATEST(api_keys.last_used_at, used.at)
    FROM unnest(${uses.map((use) => use.id)}::uuid[], ${uses.map((use) => use.at.toISOString())}::timestamptz[]) AS used(id, at)
    WHERE api_keys.id = used.id
  `.execute(db);
}
