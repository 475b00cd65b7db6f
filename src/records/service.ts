import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { invalidInput, notFound, SwitchboardError } from '../domain/errors.ts';
import type { EventAction } from '../domain/operations.ts';
import { assertPayloadFits } from '../domain/payload.ts';
import {
  changedFields,
  isUuid,
  OBJECTS,
  referencesTo,
  rowToRecord,
  validateBatchInput,
  validateRecordInput,
  valuesToColumns,
  type FieldValues,
  type ObjectName,
  type ObjectSpec,
  type RecordData,
  type ValidatedInput,
} from '../domain/records.ts';
import { appendEvents, type NewEvent } from '../storage/events.ts';
import type { Metrics } from '../observability/metrics.ts';
import * as store from '../storage/records.ts';
import type { DB } from '../storage/schema.ts';
import { decodeCursor, encodeCursor } from '../domain/cursor.ts';

export type { ObjectName, RecordData } from '../domain/records.ts';

export const DEFAULT_PAGE_SIZE = 60;
export const MAX_PAGE_SIZE = 200;

export interface ListOptions {
  first?: number | null;
  after?: string | null;
  includeDeleted?: boolean | null;
  /** How the caller's API names `first` and `after` in errors (REST says limit and cursor). */
  argumentNames?: { first: string; after: string };
}

export interface RecordPage {
  edges: Array<{ node: RecordData; cursor: string }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  totalCount: number;
}

/** Where an input sits in the request, for error fields: `data` in GraphQL, `body` in REST. */
export interface InputPath {
  path?: string;
}

/**
 * Record writes. Each committed write stores the record and exactly one event (`{object}.{action}`) in one
 * transaction; a write that changes nothing stores nothing; a write that fails stores nothing.
 */
export interface RecordService {
  create(workspaceId: string, object: ObjectName, input: unknown, options?: InputPath): Promise<RecordData>;
  /** All or nothing: one transaction, one multi-row insert, one event per record. */
  createMany(workspaceId: string, object: ObjectName, inputs: unknown, options?: InputPath): Promise<RecordData[]>;
  update(workspaceId: string, object: ObjectName, id: string, input: unknown, options?: InputPath): Promise<RecordData>;
  /** Soft delete: sets deletedAt. Deleting a deleted record changes nothing and emits nothing. */
  softDelete(workspaceId: string, object: ObjectName, id: string): Promise<RecordData>;
  /** Clears deletedAt. Restoring a record that is not deleted changes nothing and emits nothing. */
  restore(workspaceId: string, object: ObjectName, id: string): Promise<RecordData>;
  /** Hard delete; refused (CONFLICT) while other records reference it. Returns the last state. */
  destroy(workspaceId: string, object: ObjectName, id: string): Promise<RecordData>;
  /** A record, soft-deleted ones included (so they can be restored). */
  get(workspaceId: string, object: ObjectName, id: string): Promise<RecordData>;
  list(workspaceId: string, object: ObjectName, options?: ListOptions): Promise<RecordPage>;
}

/** Columns written on create, in table order. */
function insertColumns(object: ObjectSpec): store.ColumnSpec[] {
  return [
    { column: 'id', kind: 'uuid' },
    { column: 'workspace_id', kind: 'uuid' },
    ...object.fields.map((field) => ({ column: field.column, kind: field.kind })),
    { column: 'created_at', kind: 'timestamp' },
    { column: 'updated_at', kind: 'timestamp' },
  ];
}

function newEvent(
  workspaceId: string,
  object: ObjectSpec,
  action: EventAction,
  record: RecordData,
  previousRecord: RecordData | null,
  updatedFields: string[] | null,
  at: Date,
): NewEvent {
  return {
    id: randomUUID(),
    workspaceId,
    operation: `${object.nameSingular}.${action}`,
    recordId: String(record.id),
    record,
    previousRecord,
    updatedFields,
    createdAt: at,
  };
}

/**
 * Refuses a record state whose events could not be delivered. Besides the write's own event, the record must
 * fit the event of a later soft delete (which carries it twice, as record and previousRecord): otherwise a
 * stored record could never be deleted, restored or destroyed.
 */
function assertStorable(workspaceId: string, object: ObjectSpec, ownEvent: NewEvent, record: RecordData, what: string): void {
  assertPayloadFits(ownEvent, what);
  const at = new Date(String(record.updatedAt));
  const deleted = { ...record, deletedAt: at.toISOString() };
  assertPayloadFits(newEvent(workspaceId, object, 'deleted', deleted, record, ['deletedAt'], at), what);
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === '23505';
}

export function createRecordService(db: Kysely<DB>, clock: Clock, metrics?: Pick<Metrics, 'eventsEmitted'>): RecordService {
  /** A transaction whose events are appended to the outbox, and counted once it commits. */
  async function writeWithEvents<T>(work: (trx: Kysely<DB>, emit: (events: NewEvent[]) => Promise<void>) => Promise<T>): Promise<T> {
    let emitted = 0;
    const result = await db.transaction().execute((trx) =>
      work(trx, async (events) => {
        await appendEvents(trx, events);
        emitted += events.length;
      }),
    );
    metrics?.eventsEmitted(emitted);
    return result;
  }

  /**
   * Checks that every reference given (companyId, pointOfContactId) names a live record of the same workspace,
   * and locks those records so they cannot be destroyed before this transaction commits.
   */
  async function checkReferences(trx: Kysely<DB>, workspaceId: string, object: ObjectSpec, inputs: FieldValues[], paths: string[]) {
    for (const field of object.fields) {
      if (field.kind !== 'reference' || !field.references) continue;
      const target = OBJECTS[field.references];
      const ids = [...new Set(inputs.map((values) => values[field.name]).filter((value): value is string => typeof value === 'string'))];
      if (ids.length === 0) continue;
      const found = await store.lockReferencedRecords(trx, target.table, workspaceId, ids);
      inputs.forEach((values, index) => {
        const id = values[field.name];
        if (typeof id !== 'string') return;
        const path = `${paths[index]}.${field.name}`;
        const existing = found.get(id);
        if (!existing) throw invalidInput(path, `no ${target.nameSingular} ${id} exists in this workspace`);
        if (existing.deletedAt) throw invalidInput(path, `${target.nameSingular} ${id} is deleted; restore it first`);
      });
    }
  }

  async function insert(workspaceId: string, object: ObjectSpec, inputs: ValidatedInput[], paths: string[]): Promise<RecordData[]> {
    try {
      return await writeWithEvents(async (trx, emit) => {
        const givenIds = inputs.flatMap((input) => (input.id ? [input.id] : []));
        const taken = await store.existingIds(trx, object.table, givenIds);
        inputs.forEach((input, index) => {
          if (input.id && taken.has(input.id)) throw conflictingId(object, input.id, `${paths[index]}.id`);
        });
        await checkReferences(trx, workspaceId, object, inputs.map((input) => input.values), paths);
        const now = clock.now();
        const rows = inputs.map((input) => ({
          id: input.id ?? randomUUID(),
          workspace_id: workspaceId,
          ...valuesToColumns(object, input.values),
          created_at: now.toISOString(),
          updated_at: now.toISOString(),
        }));
        const stored = await store.insertRecords(trx, object.table, insertColumns(object), rows);
        const records = stored.map((row) => rowToRecord(object, row));
        const events = records.map((record, index) => {
          const event = newEvent(workspaceId, object, 'created', record, null, null, now);
          assertStorable(workspaceId, object, event, record, `${object.nameSingular} ${paths[index]}`);
          return event;
        });
        await emit(events);
        return records;
      });
    } catch (error) {
      // Two writers choosing the same id at once: the loser learns it here rather than from the pre-check.
      if (isUniqueViolation(error)) {
        throw new SwitchboardError('CONFLICT', `a ${object.nameSingular} with one of the given ids was created at the same moment; nothing was stored`);
      }
      throw error;
    }
  }

  /** Runs `change` on the locked current row; stores and emits only when it changes something. */
  async function modify(
    workspaceId: string,
    object: ObjectSpec,
    id: string,
    action: 'updated' | 'deleted' | 'restored',
    change: (before: RecordData, now: Date) => FieldValues,
    beforeWrite: (trx: Kysely<DB>, changes: FieldValues) => Promise<void> = async () => {},
  ): Promise<RecordData> {
    if (!isUuid(id)) throw notFound(object.nameSingular, id);
    return writeWithEvents(async (trx, emit) => {
      // FOR UPDATE: a concurrent writer waits here, then reads the state this one commits (no lost update).
      const row = await store.findRecord(trx, object.table, workspaceId, id.toLowerCase(), { forUpdate: true });
      if (!row) throw notFound(object.nameSingular, id);
      const before = rowToRecord(object, row);
      // Read the time once the lock is held, so successive writes of one record get non-decreasing times.
      const now = clock.now();
      const wanted = change(before, now);
      const changes: FieldValues = {};
      for (const [name, value] of Object.entries(wanted)) if ((before[name] ?? null) !== value) changes[name] = value;
      if (Object.keys(changes).length === 0) return before;
      await beforeWrite(trx, changes);
      const columns: Record<string, string | number | null> = { ...valuesToColumns(object, changes), updated_at: now.toISOString() };
      if ('deletedAt' in changes) columns.deleted_at = changes.deletedAt;
      const after = rowToRecord(object, await store.updateRecord(trx, object.table, workspaceId, before.id as string, columns));
      const event = newEvent(workspaceId, object, action, after, before, changedFields(object, before, after), now);
      assertStorable(workspaceId, object, event, after, `${object.nameSingular} ${id}`);
      await emit([event]);
      return after;
    });
  }

  return {
    async create(workspaceId, objectName, input, options = {}) {
      const object = OBJECTS[objectName];
      const path = options.path ?? 'data';
      const [record] = await insert(workspaceId, object, [validateRecordInput(object, input, 'create', path)], [path]);
      return record;
    },

    createMany(workspaceId, objectName, inputs, options = {}) {
      const object = OBJECTS[objectName];
      const path = options.path ?? 'data';
      const validated = validateBatchInput(object, inputs, path);
      return insert(workspaceId, object, validated, validated.map((_, index) => `${path}[${index}]`));
    },

    update(workspaceId, objectName, id, input, options = {}) {
      const object = OBJECTS[objectName];
      const path = options.path ?? 'data';
      // Validate before opening a transaction: bad input never touches the database.
      const { values } = validateRecordInput(object, input, 'update', path);
      return modify(workspaceId, object, id, 'updated', () => values, (trx, changes) =>
        checkReferences(trx, workspaceId, object, [changes], [path]),
      );
    },

    softDelete(workspaceId, objectName, id) {
      const object = OBJECTS[objectName];
      return modify(workspaceId, object, id, 'deleted', (before, now) => ({ deletedAt: before.deletedAt ?? now.toISOString() }));
    },

    restore(workspaceId, objectName, id) {
      return modify(workspaceId, OBJECTS[objectName], id, 'restored', () => ({ deletedAt: null }));
    },

    async destroy(workspaceId, objectName, id) {
      const object = OBJECTS[objectName];
      if (!isUuid(id)) throw notFound(object.nameSingular, id);
      return writeWithEvents(async (trx, emit) => {
        const row = await store.findRecord(trx, object.table, workspaceId, id.toLowerCase(), { forUpdate: true });
        if (!row) throw notFound(object.nameSingular, id);
        const last = rowToRecord(object, row);
        // Refuse rather than cascade: a destroy emits exactly one event, and dangling ids help nobody.
        const holders: string[] = [];
        for (const { object: holder, field } of referencesTo(objectName)) {
          const count = await store.countReferences(trx, holder.table, field.column, workspaceId, last.id as string);
          if (count > 0) holders.push(`${count} ${count === 1 ? holder.nameSingular : holder.namePlural} (${field.name})`);
        }
        if (holders.length > 0) {
          throw new SwitchboardError(
            'CONFLICT',
            `${object.nameSingular} ${last.id} is still referenced by ${holders.join(' and ')}; set those fields to null or destroy those records first`,
          );
        }
        await store.deleteRecord(trx, object.table, workspaceId, last.id as string);
        const now = clock.now();
        await emit([newEvent(workspaceId, object, 'destroyed', last, last, null, now)]);
        return last;
      });
    },

    async get(workspaceId, objectName, id) {
      const object = OBJECTS[objectName];
      const row = isUuid(id) ? await store.findRecord(db, object.table, workspaceId, id.toLowerCase()) : undefined;
      if (!row) throw notFound(object.nameSingular, id);
      return rowToRecord(object, row);
    },

    async list(workspaceId, objectName, options = {}) {
      const object = OBJECTS[objectName];
      const names = options.argumentNames ?? { first: 'first', after: 'after' };
      const first = options.first ?? DEFAULT_PAGE_SIZE;
      if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
        throw invalidInput(names.first, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
      }
      const after = options.after ? decodeCursor(options.after, names.after) : undefined;
      // One row more than asked tells whether another page exists.
      const { rows, totalCount } = await store.listRecords(db, object.table, workspaceId, {
        after,
        limit: first + 1,
        includeDeleted: options.includeDeleted ?? false,
      });
      const edges = rows.slice(0, first).map((row) => {
        const node = rowToRecord(object, row);
        return { node, cursor: encodeCursor({ createdAt: String(node.createdAt), id: String(node.id) }) };
      });
      return {
        edges,
        pageInfo: { hasNextPage: rows.length > first, endCursor: edges.at(-1)?.cursor ?? null },
        totalCount,
      };
    },
  };
}

function conflictingId(object: ObjectSpec, id: string, field: string): SwitchboardError {
  return new SwitchboardError('CONFLICT', `${field}: a ${object.nameSingular} with id ${id} already exists`, field);
}
