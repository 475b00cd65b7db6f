import { sql, type Kysely, type RawBuilder } from 'kysely';
import { isUuid, jsonColumnOf, type FieldKind, type FieldSpec, type FieldValue, type ObjectSpec, type RecordRow } from '../domain/records.ts';
import type { RecordFilter } from '../domain/record-filter.ts';
import type { OrderTerm } from '../domain/record-order.ts';
import type { DB } from './schema.ts';
import { compileAfter, compileOrderBy, compileRecordFilter, type SortValue } from './record-query.ts';

export type { RecordTable } from '../domain/records.ts';

/** A column to write, with the kind that decides its SQL array type in multi-row inserts. */
export interface ColumnSpec {
  column: string;
  kind: Extract<FieldKind, 'reference' | 'datetime' | 'text' | 'email' | 'integer' | 'number'> | 'uuid' | 'timestamp' | 'jsonb';
}

const SQL_TYPE: Record<ColumnSpec['kind'], string> = {
  uuid: 'uuid',
  reference: 'uuid',
  timestamp: 'timestamptz',
  datetime: 'timestamptz',
  text: 'text',
  email: 'text',
  integer: 'integer',
  number: 'double precision',
  jsonb: 'jsonb',
};

/**
 * The rows of one object in one workspace. The ids are written as literals (UUIDs of ours, checked here, never
 * caller text) so the planner matches the partial expression indexes of custom fields, whose predicates name them.
 */
export function recordScope(object: ObjectSpec, workspaceId: string): RawBuilder<unknown> {
  const workspace = sql`workspace_id = ${sql.lit(uuidLiteral(workspaceId))}::uuid`;
  if (object.table !== 'custom_records') return workspace;
  return sql`object_metadata_id = ${sql.lit(uuidLiteral(object.objectMetadataId))}::uuid AND ${workspace}`;
}

function uuidLiteral(value: string | undefined): string {
  if (!isUuid(value)) throw new Error(`recordScope: ${String(value)} is not a metadata id`);
  return value;
}

/** The SQL expression reading a field of a record (its column, or its key in the jsonb document, as text). */
export function fieldTextExpression(object: ObjectSpec, field: FieldSpec): RawBuilder<unknown> {
  if (field.column) return sql.ref(field.column);
  return sql`(${sql.ref(jsonColumnOf(object))} ->> ${sql.lit(field.name)})`;
}

/**
 * Inserts rows in one statement (`INSERT … SELECT * FROM unnest(…)`: one parameter per column, whatever the
 * row count) and returns them as stored, in input order.
 */
export async function insertRecords(
  trx: Kysely<DB>,
  object: ObjectSpec,
  columns: readonly ColumnSpec[],
  rows: ReadonlyArray<Record<string, unknown>>,
): Promise<RecordRow[]> {
  const names = sql.join(columns.map((spec) => sql.ref(spec.column)));
  const arrays = sql.join(
    columns.map((spec) =>
      spec.kind === 'jsonb'
        ? sql`${rows.map((row) => JSON.stringify(row[spec.column] ?? {}))}::jsonb[]`
        : sql`${rows.map((row) => row[spec.column] ?? null)}::${sql.raw(SQL_TYPE[spec.kind])}[]`,
    ),
  );
  const result = await sql<RecordRow>`
    INSERT INTO ${sql.table(object.table)} (${names})
    SELECT * FROM unnest(${arrays})
    RETURNING *
  `.execute(trx);
  const byId = new Map(result.rows.map((row) => [String(row.id), row]));
  return rows.map((row) => byId.get(String(row.id))!);
}

export interface FindOptions {
  /** Lock the row for an update in this transaction (others wait until it commits). */
  forUpdate?: boolean;
}

export async function findRecord(
  db: Kysely<DB>,
  object: ObjectSpec,
  workspaceId: string,
  id: string,
  options: FindOptions = {},
): Promise<RecordRow | undefined> {
  const lock = options.forUpdate ? sql`FOR UPDATE` : sql``;
  const result = await sql<RecordRow>`
    SELECT * FROM ${sql.table(object.table)} WHERE ${recordScope(object, workspaceId)} AND id = ${id} ${lock}
  `.execute(db);
  return result.rows[0];
}

/**
 * The given ids that exist in the workspace, with their deletedAt, locked FOR KEY SHARE so that the rows cannot
 * be destroyed before this transaction commits (a reference to them is being written).
 */
export async function lockReferencedRecords(
  trx: Kysely<DB>,
  target: ObjectSpec,
  workspaceId: string,
  ids: readonly string[],
): Promise<Map<string, { deletedAt: Date | null }>> {
  if (ids.length === 0) return new Map();
  const result = await sql<{ id: string; deleted_at: Date | null }>`
    SELECT id, deleted_at FROM ${sql.table(target.table)}
    WHERE ${recordScope(target, workspaceId)} AND id = ANY(${[...ids]}::uuid[])
    ORDER BY id
    FOR KEY SHARE
  `.execute(trx);
  return new Map(result.rows.map((row) => [row.id, { deletedAt: row.deleted_at }]));
}

/** Which of the ids are taken in the table (in any workspace: ids are globally unique). */
export async function existingIds(trx: Kysely<DB>, object: ObjectSpec, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const result = await sql<{ id: string }>`
    SELECT id FROM ${sql.table(object.table)} WHERE id = ANY(${[...ids]}::uuid[])
  `.execute(trx);
  return new Set(result.rows.map((row) => row.id));
}

/**
 * Writes the given columns, and merges `document` into the record's jsonb document (its custom fields: each key
 * given replaces the stored value).
 */
export async function updateRecord(
  trx: Kysely<DB>,
  object: ObjectSpec,
  workspaceId: string,
  id: string,
  columns: Record<string, FieldValue>,
  document: Record<string, FieldValue> = {},
): Promise<RecordRow> {
  const assignments = Object.entries(columns).map(([column, value]) => sql`${sql.ref(column)} = ${value}`);
  if (Object.keys(document).length > 0) {
    const jsonColumn = sql.ref(jsonColumnOf(object));
    assignments.push(sql`${jsonColumn} = ${jsonColumn} || ${JSON.stringify(document)}::jsonb`);
  }
  const result = await sql<RecordRow>`
    UPDATE ${sql.table(object.table)} SET ${sql.join(assignments)}
    WHERE ${recordScope(object, workspaceId)} AND id = ${id}
    RETURNING *
  `.execute(trx);
  const row = result.rows[0];
  if (!row) throw new Error(`updateRecord: ${object.nameSingular} ${id} vanished inside its own transaction`);
  return row;
}

export async function deleteRecord(trx: Kysely<DB>, object: ObjectSpec, workspaceId: string, id: string): Promise<void> {
  await sql`DELETE FROM ${sql.table(object.table)} WHERE ${recordScope(object, workspaceId)} AND id = ${id}`.execute(trx);
}

/** How many records of `holder` hold `id` in `field` (soft-deleted ones too: they can be restored). */
export async function countReferences(
  trx: Kysely<DB>,
  holder: ObjectSpec,
  field: FieldSpec,
  workspaceId: string,
  id: string,
): Promise<number> {
  const value = field.column ? sql`${sql.ref(field.column)} = ${id}::uuid` : sql`${fieldTextExpression(holder, field)} = ${id}`;
  const result = await sql<{ count: string }>`
    SELECT count(*) AS count FROM ${sql.table(holder.table)} WHERE ${recordScope(holder, workspaceId)} AND ${value}
  `.execute(trx);
  return Number(result.rows[0]?.count ?? 0);
}

/** Removes a deleted field's values from every record of the object, so a later field of that name starts empty. */
export async function removeDocumentKey(trx: Kysely<DB>, object: ObjectSpec, workspaceId: string, key: string): Promise<void> {
  const jsonColumn = sql.ref(jsonColumnOf(object));
  await sql`
    UPDATE ${sql.table(object.table)} SET ${jsonColumn} = ${jsonColumn} - ${key}::text
    WHERE ${recordScope(object, workspaceId)} AND ${jsonColumn} ? ${key}::text
  `.execute(trx);
}

export interface PageQuery {
  /** Rows strictly after this position: its (createdAt, id) and, with `orderBy`, its sort values. */
  after?: { createdAt: string; id: string; values?: SortValue[] };
  limit: number;
  includeDeleted: boolean;
  filter?: RecordFilter;
  orderBy?: readonly OrderTerm[];
}

/**
 * One page in the order asked (then (created_at, id), the tables' page index), plus the total of matching rows.
 * A filter or order on a custom field uses that field's expression index where it has one.
 */
export async function listRecords(
  db: Kysely<DB>,
  object: ObjectSpec,
  workspaceId: string,
  query: PageQuery,
): Promise<{ rows: RecordRow[]; totalCount: number }> {
  const orderBy = query.orderBy ?? [];
  const conditions: RawBuilder<unknown>[] = [recordScope(object, workspaceId)];
  if (!query.includeDeleted) conditions.push(sql`deleted_at IS NULL`);
  if (query.filter) conditions.push(compileRecordFilter(object, query.filter));
  const matching = sql.join(conditions, sql` AND `);
  const after = query.after
    ? sql`AND ${
        orderBy.length > 0
          ? compileAfter(object, orderBy, query.after.values ?? [], query.after)
          : sql`(created_at, id) > (${query.after.createdAt}::timestamptz, ${query.after.id}::uuid)`
      }`
    : sql``;
  const page = await sql<RecordRow>`
    SELECT * FROM ${sql.table(object.table)}
    WHERE ${matching} ${after}
    ORDER BY ${compileOrderBy(object, orderBy)}
    LIMIT ${query.limit}
  `.execute(db);
  const total = await sql<{ count: string }>`
    SELECT count(*) AS count FROM ${sql.table(object.table)} WHERE ${matching}
  `.execute(db);
  return { rows: page.rows, totalCount: Number(total.rows[0]?.count ?? 0) };
}
