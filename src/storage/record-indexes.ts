import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { FieldType } from '../domain/field-types.ts';
import { jsonColumnOf, type FieldSpec, type ObjectSpec } from '../domain/records.ts';
import type { DB } from './schema.ts';

/**
 * Expression indexes for custom fields. Each field of a type users filter and sort on gets a btree index on the
 * expression that reads it, partial to its object (custom_records) or its workspace (a standard table), so it
 * holds only that object's rows and writes to other objects never touch it. TEXT, MULTI_SELECT and RAW_JSON get
 * none: texts are unbounded (a btree entry must stay under about 2.7 kB) and lists and documents are not ordered.
 */
const INDEXED_TYPES: ReadonlySet<FieldType> = new Set(['NUMBER', 'BOOLEAN', 'DATE_TIME', 'DATE', 'SELECT', 'UUID', 'RELATION', 'CURRENCY']);

export function isIndexedType(type: FieldType): boolean {
  return INDEXED_TYPES.has(type);
}

/**
 * The SQL expression that reads a custom field as a comparable value: numbers as numeric, booleans as boolean,
 * a currency as its amountMicros, everything else as text (ISO dates and times compare correctly as text). Field
 * names are validated camelCase, written as literals so that queries match the index expression exactly.
 */
export function customFieldExpression(object: ObjectSpec, field: Pick<FieldSpec, 'name' | 'type'>): RawBuilder<unknown> {
  const document = sql.ref(jsonColumnOf(object));
  const key = sql.lit(field.name);
  switch (field.type) {
    case 'NUMBER':
      return sql`((${document} ->> ${key})::numeric)`;
    case 'BOOLEAN':
      return sql`((${document} ->> ${key})::boolean)`;
    case 'CURRENCY':
      return sql`((${document} -> ${key} ->> 'amountMicros')::numeric)`;
    default:
      return sql`(${document} ->> ${key})`;
  }
}

export function indexName(fieldMetadataId: string): string {
  return `field_${fieldMetadataId.replace(/-/g, '')}`;
}

/**
 * Creates the field's index (inside the metadata transaction: it commits or vanishes with the field). The
 * predicate is a literal, so the planner uses it for queries of that object or workspace.
 */
export async function createFieldIndex(trx: Kysely<DB>, object: ObjectSpec, workspaceId: string, fieldMetadataId: string, field: Pick<FieldSpec, 'name' | 'type'>): Promise<void> {
  if (!isIndexedType(field.type)) return;
  // An index predicate must be all literals (both ids are UUIDs of ours, never caller text).
  const predicate =
    object.table === 'custom_records'
      ? sql`object_metadata_id = ${sql.lit(object.objectMetadataId!)}::uuid`
      : sql`workspace_id = ${sql.lit(workspaceId)}::uuid`;
  await sql`
    CREATE INDEX IF NOT EXISTS ${sql.id(indexName(fieldMetadataId))}
    ON ${sql.table(object.table)} (${customFieldExpression(object, field)}, created_at, id)
    WHERE ${predicate}
  `.execute(trx);
}

export async function dropFieldIndex(trx: Kysely<DB>, fieldMetadataId: string): Promise<void> {
  await sql`DROP INDEX IF EXISTS ${sql.id(indexName(fieldMetadataId))}`.execute(trx);
}
