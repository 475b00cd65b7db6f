import { sql, type Kysely } from 'kysely';
import type { Database } from './database.ts';
import { migrateToLatest } from './migrate.ts';

/** Read from the source per statement: small enough that rows of large events stay within memory. */
const READ_BATCH_ROWS = 500;
/** Written to the target per statement, whichever comes first. */
const WRITE_BATCH_BYTES = 8 * 1024 * 1024;

export interface TableProgress {
  table: string;
  copied: number;
  total: number;
}

export interface MovedTable {
  table: string;
  rows: number;
  checksum: string;
}

export interface MoveOptions {
  /** Called after every batch written, and once per table at its end. */
  onProgress?: (progress: TableProgress) => void;
}

/** The tables our migrations made (not the migrator's own), parents before the tables that reference them. */
export async function tablesInDependencyOrder(db: Kysely<any>): Promise<string[]> {
  const tables = (
    await sql<{ name: string }>`
      SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname NOT LIKE 'kysely_migration%'
      ORDER BY c.relname`.execute(db)
  ).rows.map((row) => row.name);
  const references = (
    await sql<{ child: string; parent: string }>`
      SELECT child.relname AS child, parent.relname AS parent
      FROM pg_constraint k
      JOIN pg_class child ON child.oid = k.conrelid JOIN pg_class parent ON parent.oid = k.confrelid
      JOIN pg_namespace n ON n.oid = child.relnamespace
      WHERE k.contype = 'f' AND n.nspname = 'public'`.execute(db)
  ).rows;
  const ordered: string[] = [];
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const place = (table: string) => {
    if (placed.has(table)) return;
    if (visiting.has(table)) throw new Error(`tables reference each other in a cycle through ${table}: no order to copy them in`);
    visiting.add(table);
    for (const { child, parent } of references) if (child === table && parent !== table && tables.includes(parent)) place(parent);
    visiting.delete(table);
    placed.add(table);
    ordered.push(table);
  };
  for (const table of tables) place(table);
  return ordered;
}

/** Row count and an order-free checksum of a table's rows as JSON (both sides in UTC, so the text is comparable). */
async function tableChecksum(db: Kysely<any>, table: string): Promise<{ rows: number; checksum: string }> {
  const { rows } = await sql<{ rows: string; checksum: string }>`
    SELECT count(*)::text AS rows,
           coalesce(sum(('x' || substr(md5(row_to_json(t)::text), 1, 15))::bit(60)::bigint), 0)::text AS checksum
    FROM ${sql.id(table)} t`.execute(db);
  return { rows: Number(rows[0]!.rows), checksum: rows[0]!.checksum };
}

async function insertableColumns(db: Kysely<any>, table: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    SELECT attname AS name FROM pg_attribute
    WHERE attrelid = ${`public.${table}`}::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
    ORDER BY attnum`.execute(db);
  return rows.map((row) => row.name);
}

/** Tables of the target that hold rows; empty means it may receive a move. */
export async function nonEmptyTables(db: Kysely<any>): Promise<string[]> {
  const found: string[] = [];
  for (const table of await tablesInDependencyOrder(db)) {
    const { rows } = await sql<{ any: boolean }>`SELECT EXISTS (SELECT 1 FROM ${sql.id(table)}) AS any`.execute(db);
    if (rows[0]!.any) found.push(table);
  }
  return found;
}

/**
 * Copies every table of the source (an embedded database no other process holds) into an empty target, in one
 * target transaction: a failure leaves the target as empty as it was. Both are migrated first, so they have the
 * same tables. Each table is verified by count and checksum before the commit. Deliveries a dead server had
 * claimed are made due at once, since the source's lock proves no worker still holds them.
 */
export async function moveDatabase(source: Database, target: Database, options: MoveOptions = {}): Promise<MovedTable[]> {
  await migrateToLatest(source.db);
  await migrateToLatest(target.db);
  const occupied = await nonEmptyTables(target.db);
  if (occupied.length > 0) {
    throw new Error(`the target database is not empty (rows in ${occupied.join(', ')}): move into a new, empty database`);
  }
  const tables = await tablesInDependencyOrder(target.db);
  const sourceTables = new Set(await tablesInDependencyOrder(source.db));
  const missing = tables.filter((table) => !sourceTables.has(table));
  if (missing.length > 0 || sourceTables.size !== tables.length) {
    throw new Error(`the two databases' tables differ after migrating (${missing.join(', ') || 'extra tables in the source'})`);
  }
  await sql`SET TimeZone = 'UTC'`.execute(source.db);

  return target.db.transaction().execute(async (trx) => {
    await sql`SET LOCAL TimeZone = 'UTC'`.execute(trx);
    const moved: MovedTable[] = [];
    for (const table of tables) {
      const expected = await tableChecksum(source.db, table);
      const columns = await insertableColumns(trx, table);
      const columnList = sql.join(columns.map((column) => sql.id(column)));
      let copied = 0;
      let pending: string[] = [];
      let pendingBytes = 0;
      const write = async () => {
        if (pending.length === 0) return;
        await sql`
          INSERT INTO ${sql.id(table)} (${columnList}) OVERRIDING SYSTEM VALUE
          SELECT ${columnList} FROM json_populate_recordset(NULL::${sql.id(table)}, ${`[${pending.join(',')}]`}::json)`.execute(trx);
        copied += pending.length;
        pending = [];
        pendingBytes = 0;
        options.onProgress?.({ table, copied, total: expected.rows });
      };
      // The source is not written during the move (its lock is held), so its physical order is a stable cursor.
      let after = '(0,0)';
      for (;;) {
        const { rows } = await sql<{ at: string; row: string }>`
          SELECT t.ctid::text AS at, row_to_json(t)::text AS row FROM ${sql.id(table)} t
          WHERE t.ctid > ${after}::tid ORDER BY t.ctid LIMIT ${READ_BATCH_ROWS}`.execute(source.db);
        for (const { row } of rows) {
          pending.push(row);
          pendingBytes += row.length;
          if (pendingBytes >= WRITE_BATCH_BYTES) await write();
        }
        if (rows.length < READ_BATCH_ROWS) break;
        after = rows.at(-1)!.at;
      }
      await write();
      options.onProgress?.({ table, copied, total: expected.rows });
      const actual = await tableChecksum(trx, table);
      if (actual.rows !== expected.rows || actual.checksum !== expected.checksum) {
        throw new Error(
          `${table}: the copy does not match (source ${expected.rows} rows, checksum ${expected.checksum}; ` +
            `target ${actual.rows} rows, checksum ${actual.checksum}): nothing was kept`,
        );
      }
      moved.push({ table, ...expected });
    }
    await resetSequences(trx);
    await sql`
      UPDATE deliveries SET lease_token = NULL, next_attempt_at = now()
      WHERE status = 'PENDING' AND lease_token IS NOT NULL`.execute(trx);
    return moved;
  });
}

/** A serial or identity column's sequence continues after the largest value copied. */
async function resetSequences(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ sequence: string; table: string; column: string }>`
    SELECT s.relname AS sequence, t.relname AS table, a.attname AS column
    FROM pg_class s
    JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    JOIN pg_namespace n ON n.oid = s.relnamespace
    WHERE s.relkind = 'S' AND n.nspname = 'public'`.execute(db);
  for (const { sequence, table, column } of rows) {
    await sql`SELECT setval(${`public.${sequence}`}::regclass, coalesce(max(${sql.id(column)}), 0) + 1, false) FROM ${sql.id(table)}`.execute(db);
  }
}
