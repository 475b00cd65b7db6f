import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { invalidInput, notFound, SwitchboardError } from '../domain/errors.ts';
import type { EventAction } from '../domain/operations.ts';
import { assertPayloadFits } from '../domain/payload.ts';
import { allObjectSpecs, filterDescriptors, type DataModel } from '../domain/metadata.ts';
import { parseRecordFilter } from '../domain/record-filter.ts';
import { parseOrderBy } from '../domain/record-order.ts';
import { sortValuesOf } from '../storage/record-query.ts';
import {
  changedFields,
  isUuid,
  jsonColumnOf,
  referencesTo,
  rowToRecord,
  sameFieldValue,
  validateBatchInput,
  validateRecordInput,
  valuesToColumns,
  valuesToDocument,
  type FieldValue,
  type FieldValues,
  type ObjectName,
  type ObjectSpec,
  type RecordData,
  type ValidatedInput,
} from '../domain/records.ts';
import { appendEvents, type NewEvent } from '../storage/events.ts';
import { screenModelOf } from '../domain/webhook-screen.ts';
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
  /** Twenty's list filter (src/domain/record-filter.ts), unchecked. */
  filter?: unknown;
  /** Twenty's orderBy: `[{ field: AscNullsFirst | AscNullsLast | DescNullsFirst | DescNullsLast }]`, unchecked. */
  orderBy?: unknown;
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

/** The data model of a workspace as it is now (cached; a metadata change shows within a second). */
export type DataModelSource = (workspaceId: string) => Promise<DataModel>;

/**
 * Record writes for every object of a workspace, standard or custom. Each committed write stores the record and exactly one event (`{object}.{action}`) in one
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
  const own: store.ColumnSpec[] = object.fields.flatMap((field) =>
    field.column ? [{ column: field.column, kind: field.kind as store.ColumnSpec['kind'] }] : [],
  );
  return [
    { column: 'id', kind: 'uuid' },
    { column: 'workspace_id', kind: 'uuid' },
    ...(object.table === 'custom_records' ? [{ column: 'object_metadata_id', kind: 'uuid' } as const] : []),
    ...own,
    { column: jsonColumnOf(object), kind: 'jsonb' },
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

export function createRecordService(
  db: Kysely<DB>,
  clock: Clock,
  models: DataModelSource,
  metrics?: Pick<Metrics, 'eventsEmitted'>,
): RecordService {
  /** The object of that name in the workspace's current data model, with the model (for references). */
  async function resolve(workspaceId: string, name: ObjectName): Promise<{ object: ObjectSpec; model: DataModel }> {
    const model = await models(workspaceId);
    const object = model.bySingular.get(name);
    if (!object) throw new SwitchboardError('NOT_FOUND', `this workspace has no object ${name}`);
    return { object, model };
  }

  /** A transaction whose events are appended to the outbox, and counted once it commits. */
  async function writeWithEvents<T>(model: DataModel, work: (trx: Kysely<DB>, emit: (events: NewEvent[]) => Promise<void>) => Promise<T>): Promise<T> {
    let emitted = 0;
    // Webhook filters are read with the workspace's fields, custom ones included.
    const screens = screenModelOf(model);
    const result = await db.transaction().execute((trx) =>
      work(trx, async (events) => {
        await appendEvents(trx, events, screens);
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
  async function checkReferences(
    trx: Kysely<DB>,
    workspaceId: string,
    model: DataModel,
    object: ObjectSpec,
    inputs: FieldValues[],
    paths: string[],
  ) {
    for (const field of object.fields) {
      if (field.kind !== 'reference' || !field.references) continue;
      const target = model.bySingular.get(field.references);
      if (!target) continue;
      const ids = [...new Set(inputs.map((values) => values[field.name]).filter((value): value is string => typeof value === 'string'))];
      if (ids.length === 0) continue;
      const found = await store.lockReferencedRecords(trx, target, workspaceId, ids);
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

  async function insert(
    workspaceId: string,
    model: DataModel,
    object: ObjectSpec,
    inputs: ValidatedInput[],
    paths: string[],
  ): Promise<RecordData[]> {
    try {
      return await writeWithEvents(model, async (trx, emit) => {
        const givenIds = inputs.flatMap((input) => (input.id ? [input.id] : []));
        const taken = await store.existingIds(trx, object, givenIds);
        inputs.forEach((input, index) => {
          if (input.id && taken.has(input.id)) throw conflictingId(object, input.id, `${paths[index]}.id`);
        });
        await checkReferences(trx, workspaceId, model, object, inputs.map((input) => input.values), paths);
        const now = clock.now();
        const rows = inputs.map((input) => ({
          id: input.id ?? randomUUID(),
          workspace_id: workspaceId,
          object_metadata_id: object.objectMetadataId ?? null,
          ...valuesToColumns(object, input.values),
          [jsonColumnOf(object)]: valuesToDocument(object, input.values),
          created_at: now.toISOString(),
          updated_at: now.toISOString(),
        }));
        const stored = await store.insertRecords(trx, object, insertColumns(object), rows);
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
    model: DataModel,
    object: ObjectSpec,
    id: string,
    action: 'updated' | 'deleted' | 'restored',
    change: (before: RecordData, now: Date) => FieldValues,
    beforeWrite: (trx: Kysely<DB>, changes: FieldValues) => Promise<void> = async () => {},
  ): Promise<RecordData> {
    if (!isUuid(id)) throw notFound(object.nameSingular, id);
    return writeWithEvents(model, async (trx, emit) => {
      // FOR UPDATE: a concurrent writer waits here, then reads the state this one commits (no lost update).
      const row = await store.findRecord(trx, object, workspaceId, id.toLowerCase(), { forUpdate: true });
      if (!row) throw notFound(object.nameSingular, id);
      const before = rowToRecord(object, row);
      // Read the time once the lock is held, so successive writes of one record get non-decreasing times.
      const now = clock.now();
      const wanted = change(before, now);
      const changes: FieldValues = {};
      for (const [name, value] of Object.entries(wanted)) if (!sameFieldValue(before[name], value)) changes[name] = value;
      if (Object.keys(changes).length === 0) return before;
      await beforeWrite(trx, changes);
      const columns: Record<string, FieldValue> = { ...valuesToColumns(object, changes), updated_at: now.toISOString() };
      if ('deletedAt' in changes) columns.deleted_at = changes.deletedAt;
      const stored = await store.updateRecord(trx, object, workspaceId, before.id as string, columns, valuesToDocument(object, changes));
      const after = rowToRecord(object, stored);
      const event = newEvent(workspaceId, object, action, after, before, changedFields(object, before, after), now);
      assertStorable(workspaceId, object, event, after, `${object.nameSingular} ${id}`);
      await emit([event]);
      return after;
    });
  }

  return {
    async create(workspaceId, objectName, input, options = {}) {
      const { object, model } = await resolve(workspaceId, objectName);
      const path = options.path ?? 'data';
      const [record] = await insert(workspaceId, model, object, [validateRecordInput(object, input, 'create', path)], [path]);
      return record;
    },

    async createMany(workspaceId, objectName, inputs, options = {}) {
      const { object, model } = await resolve(workspaceId, objectName);
      const path = options.path ?? 'data';
      const validated = validateBatchInput(object, inputs, path);
      return insert(workspaceId, model, object, validated, validated.map((_, index) => `${path}[${index}]`));
    },

    async update(workspaceId, objectName, id, input, options = {}) {
      const { object, model } = await resolve(workspaceId, objectName);
      const path = options.path ?? 'data';
      // Validate before opening a transaction: bad input never touches the database.
      const { values } = validateRecordInput(object, input, 'update', path);
      return modify(workspaceId, model, object, id, 'updated', () => values, (trx, changes) =>
        checkReferences(trx, workspaceId, model, object, [changes], [path]),
      );
    },

    async softDelete(workspaceId, objectName, id) {
      const { object, model } = await resolve(workspaceId, objectName);
      return modify(workspaceId, model, object, id, 'deleted', (before, now) => ({ deletedAt: before.deletedAt ?? now.toISOString() }));
    },

    async restore(workspaceId, objectName, id) {
      const { object, model } = await resolve(workspaceId, objectName);
      return modify(workspaceId, model, object, id, 'restored', () => ({ deletedAt: null }));
    },

    async destroy(workspaceId, objectName, id) {
      const { object, model } = await resolve(workspaceId, objectName);
      if (!isUuid(id)) throw notFound(object.nameSingular, id);
      return writeWithEvents(model, async (trx, emit) => {
        const row = await store.findRecord(trx, object, workspaceId, id.toLowerCase(), { forUpdate: true });
        if (!row) throw notFound(object.nameSingular, id);
        const last = rowToRecord(object, row);
        // Refuse rather than cascade: a destroy emits exactly one event, and dangling ids help nobody.
        const holders: string[] = [];
        // Deactivated objects and relation fields count too: their stored ids come back with them.
        for (const { object: holder, field } of referencesTo(allObjectSpecs(model.metadata), object.nameSingular)) {
          const count = await store.countReferences(trx, holder, field, workspaceId, last.id as string);
          if (count > 0) holders.push(`${count} ${count === 1 ? holder.nameSingular : holder.namePlural} (${field.name})`);
        }
        if (holders.length > 0) {
          throw new SwitchboardError(
            'CONFLICT',
            `${object.nameSingular} ${last.id} is still referenced by ${holders.join(' and ')}; set those fields to null or destroy those records first`,
          );
        }
        await store.deleteRecord(trx, object, workspaceId, last.id as string);
        const now = clock.now();
        await emit([newEvent(workspaceId, object, 'destroyed', last, last, null, now)]);
        return last;
      });
    },

    async get(workspaceId, objectName, id) {
      const { object } = await resolve(workspaceId, objectName);
      const row = isUuid(id) ? await store.findRecord(db, object, workspaceId, id.toLowerCase()) : undefined;
      if (!row) throw notFound(object.nameSingular, id);
      return rowToRecord(object, row);
    },

    async list(workspaceId, objectName, options = {}) {
      const { object } = await resolve(workspaceId, objectName);
      const names = options.argumentNames ?? { first: 'first', after: 'after' };
      const first = options.first ?? DEFAULT_PAGE_SIZE;
      if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
        throw invalidInput(names.first, `must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
      }
      const fields = filterDescriptors(object);
      const filter = options.filter === undefined || options.filter === null ? undefined : parseRecordFilter(options.filter, fields);
      const orderBy = parseOrderBy(options.orderBy, fields);
      const after = options.after ? decodeCursor(options.after, names.after, orderBy.length) : undefined;
      // One row more than asked tells whether another page exists.
      const { rows, totalCount } = await store.listRecords(db, object, workspaceId, {
        after,
        limit: first + 1,
        includeDeleted: options.includeDeleted ?? false,
        filter,
        orderBy,
      });
      const edges = rows.slice(0, first).map((row) => {
        const node = rowToRecord(object, row);
        const values = orderBy.length > 0 ? sortValuesOf(object, orderBy, node) : undefined;
        return { node, cursor: encodeCursor({ createdAt: String(node.createdAt), id: String(node.id), values }) };
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
