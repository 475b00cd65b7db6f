import { sql, type Kysely, type Selectable } from 'kysely';
import type { FieldType } from '../domain/field-types.ts';
import type { FieldChanges, FieldMetadata, NewField, NewObject, ObjectChanges, ObjectMetadata, WorkspaceMetadata } from '../domain/metadata.ts';
import { standardMetadata } from '../domain/metadata.ts';
import type { DB, FieldMetadataTable, ObjectMetadataTable } from './schema.ts';

/** NOTIFY channel of metadata changes; the payload is `{workspaceId}:{version}`. */
export const METADATA_CHANNEL = 'switchboard_metadata';

/** Rows as kysely reads them from the tables schema.ts declares. */
type ObjectRow = Selectable<ObjectMetadataTable>;
type FieldRow = Selectable<FieldMetadataTable>;

function toObject(row: ObjectRow): ObjectMetadata {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    nameSingular: row.name_singular,
    namePlural: row.name_plural,
    labelSingular: row.label_singular,
    labelPlural: row.label_plural,
    description: row.description,
    icon: row.icon,
    isCustom: true,
    isActive: row.is_active,
    isLabelSyncedWithName: row.is_label_synced_with_name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toField(row: FieldRow): FieldMetadata {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    objectMetadataId: row.object_metadata_id,
    type: row.type as FieldType,
    name: row.name,
    label: row.label,
    description: row.description,
    icon: row.icon,
    isCustom: true,
    isActive: row.is_active,
    isNullable: row.is_nullable,
    isLabelSyncedWithName: row.is_label_synced_with_name,
    defaultValue: (row.default_value ?? null) as FieldMetadata['defaultValue'],
    options: (row.options ?? null) as FieldMetadata['options'],
    settings: (row.settings ?? null) as FieldMetadata['settings'],
    relationTargetObjectMetadataId: row.relation_target_object_metadata_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The current metadata version of a workspace (undefined when it does not exist). */
export async function metadataVersion(db: Kysely<DB>, workspaceId: string): Promise<number | undefined> {
  const result = await sql<{ version: string }>`SELECT metadata_version AS version FROM workspaces WHERE id = ${workspaceId}`.execute(db);
  const row = result.rows[0];
  return row ? Number(row.version) : undefined;
}

/**
 * A workspace's whole data model: the standard objects and fields, then its custom ones in creation order.
 * With `lock`, the workspace row is locked first, so metadata changes of one workspace run one at a time.
 */
export async function loadWorkspaceMetadata(db: Kysely<DB>, workspaceId: string, options: { lock?: boolean } = {}): Promise<WorkspaceMetadata | undefined> {
  const lock = options.lock ? sql`FOR UPDATE` : sql``;
  const workspace = await sql<{ version: string; created_at: Date }>`
    SELECT metadata_version AS version, created_at FROM workspaces WHERE id = ${workspaceId} ${lock}
  `.execute(db);
  const head = workspace.rows[0];
  if (!head) return undefined;
  const objects = await sql<ObjectRow>`
    SELECT * FROM object_metadata WHERE workspace_id = ${workspaceId} ORDER BY created_at, id
  `.execute(db);
  const fields = await sql<FieldRow>`
    SELECT * FROM field_metadata WHERE workspace_id = ${workspaceId} ORDER BY created_at, id
  `.execute(db);
  const standard = standardMetadata(workspaceId, head.created_at);
  return {
    workspaceId,
    version: Number(head.version),
    objects: [...standard.objects, ...objects.rows.map(toObject)],
    fields: [...standard.fields, ...fields.rows.map(toField)],
  };
}

/** Bumps the workspace's metadata version and tells every API process (on commit). Returns the new version. */
export async function bumpMetadataVersion(trx: Kysely<DB>, workspaceId: string): Promise<number> {
  const result = await sql<{ version: string }>`
    UPDATE workspaces SET metadata_version = metadata_version + 1 WHERE id = ${workspaceId} RETURNING metadata_version AS version
  `.execute(trx);
  const version = Number(result.rows[0]!.version);
  await sql`SELECT pg_notify(${METADATA_CHANNEL}, ${`${workspaceId}:${version}`})`.execute(trx);
  return version;
}

const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

export async function insertObject(trx: Kysely<DB>, workspaceId: string, id: string, object: NewObject, at: Date): Promise<ObjectMetadata> {
  const result = await sql<ObjectRow>`
    INSERT INTO object_metadata (id, workspace_id, name_singular, name_plural, label_singular, label_plural, description, icon,
                                 is_active, is_label_synced_with_name, created_at, updated_at)
    VALUES (${id}, ${workspaceId}, ${object.nameSingular}, ${object.namePlural}, ${object.labelSingular}, ${object.labelPlural},
            ${object.description}, ${object.icon}, true, ${object.isLabelSyncedWithName}, ${at.toISOString()}, ${at.toISOString()})
    RETURNING *
  `.execute(trx);
  return toObject(result.rows[0]!);
}

const OBJECT_COLUMNS: Record<keyof ObjectChanges, string> = {
  labelSingular: 'label_singular',
  labelPlural: 'label_plural',
  description: 'description',
  icon: 'icon',
  isActive: 'is_active',
  isLabelSyncedWithName: 'is_label_synced_with_name',
};

export async function updateObject(trx: Kysely<DB>, id: string, changes: ObjectChanges, at: Date): Promise<ObjectMetadata> {
  const assignments = Object.entries(changes).map(([key, value]) => sql`${sql.ref(OBJECT_COLUMNS[key as keyof ObjectChanges])} = ${value}`);
  const result = await sql<ObjectRow>`
    UPDATE object_metadata SET ${sql.join([...assignments, sql`updated_at = ${at.toISOString()}`])} WHERE id = ${id} RETURNING *
  `.execute(trx);
  return toObject(result.rows[0]!);
}

/** Removes a custom object with its fields and records (custom_records cascade). */
export async function deleteObject(trx: Kysely<DB>, id: string): Promise<void> {
  await sql`DELETE FROM field_metadata WHERE object_metadata_id = ${id}`.execute(trx);
  await sql`DELETE FROM object_metadata WHERE id = ${id}`.execute(trx);
}

export async function insertField(trx: Kysely<DB>, workspaceId: string, id: string, field: NewField, at: Date): Promise<FieldMetadata> {
  const result = await sql<FieldRow>`
    INSERT INTO field_metadata (id, workspace_id, object_metadata_id, type, name, label, description, icon, is_active, is_nullable,
                                is_label_synced_with_name, default_value, options, settings, relation_target_object_metadata_id,
                                created_at, updated_at)
    VALUES (${id}, ${workspaceId}, ${field.objectMetadataId}, ${field.type}, ${field.name}, ${field.label}, ${field.description},
            ${field.icon}, true, ${field.isNullable}, ${field.isLabelSyncedWithName}, ${json(field.defaultValue)}::jsonb,
            ${json(field.options)}::jsonb, ${json(field.settings)}::jsonb, ${field.relationTargetObjectMetadataId},
            ${at.toISOString()}, ${at.toISOString()})
    RETURNING *
  `.execute(trx);
  return toField(result.rows[0]!);
}

const FIELD_COLUMNS: Record<keyof FieldChanges, string> = {
  label: 'label',
  description: 'description',
  icon: 'icon',
  isActive: 'is_active',
  isNullable: 'is_nullable',
  isLabelSyncedWithName: 'is_label_synced_with_name',
  defaultValue: 'default_value',
  options: 'options',
  settings: 'settings',
};
const JSON_FIELD_CHANGES = new Set(['defaultValue', 'options', 'settings']);

export async function updateField(trx: Kysely<DB>, id: string, changes: FieldChanges, at: Date): Promise<FieldMetadata> {
  const assignments = Object.entries(changes).map(([key, value]) =>
    JSON_FIELD_CHANGES.has(key)
      ? sql`${sql.ref(FIELD_COLUMNS[key as keyof FieldChanges])} = ${json(value)}::jsonb`
      : sql`${sql.ref(FIELD_COLUMNS[key as keyof FieldChanges])} = ${value as string | boolean | null}`,
  );
  const result = await sql<FieldRow>`
    UPDATE field_metadata SET ${sql.join([...assignments, sql`updated_at = ${at.toISOString()}`])} WHERE id = ${id} RETURNING *
  `.execute(trx);
  return toField(result.rows[0]!);
}

export async function deleteField(trx: Kysely<DB>, id: string): Promise<void> {
  await sql`DELETE FROM field_metadata WHERE id = ${id}`.execute(trx);
}
