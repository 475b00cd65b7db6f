import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../domain/clock.ts';
import { invalidInput, notFound, SwitchboardError } from '../domain/errors.ts';
import {
  apiFieldName,
  buildDataModel,
  customFieldSpec,
  validateFieldChanges,
  validateNewField,
  validateNewObject,
  validateObjectChanges,
  type DataModel,
  type FieldMetadata,
  type ObjectMetadata,
  type WorkspaceMetadata,
} from '../domain/metadata.ts';
import { isUuid, OBJECTS, type ObjectSpec, type StandardObjectName } from '../domain/records.ts';
import type { Database, Unlisten } from '../storage/database.ts';
import * as store from '../storage/metadata.ts';
import { createFieldIndex, dropFieldIndex } from '../storage/record-indexes.ts';
import { removeDocumentKey } from '../storage/records.ts';
import { listWebhooks } from '../storage/webhooks.ts';
import { parseOperation } from '../domain/operations.ts';
import { screenModelOf, storedScreenProblem } from '../domain/webhook-screen.ts';
import type { DB } from '../storage/schema.ts';

/**
 * How long a cached data model is trusted before its version is read again. Metadata changes also arrive as
 * notifications at once; this bounds the staleness when one is lost (a listener reconnecting).
 */
export const METADATA_RECHECK_MS = 1_000;
/** Workspaces whose data model is kept in memory (least recently used dropped first). */
export const METADATA_CACHE_SIZE = 1_000;

export interface MetadataService {
  /** The workspace's data model now: cached per metadata version, fresh within METADATA_RECHECK_MS on every process. */
  model(workspaceId: string): Promise<DataModel>;
  listObjects(workspaceId: string): Promise<ObjectMetadata[]>;
  findObject(workspaceId: string, id: string): Promise<ObjectMetadata | undefined>;
  createObject(workspaceId: string, input: unknown): Promise<ObjectMetadata>;
  updateObject(workspaceId: string, input: { id?: unknown; update?: unknown }): Promise<ObjectMetadata>;
  deleteObject(workspaceId: string, input: { id?: unknown }): Promise<ObjectMetadata>;
  listFields(workspaceId: string): Promise<FieldMetadata[]>;
  findField(workspaceId: string, id: string): Promise<FieldMetadata | undefined>;
  createField(workspaceId: string, input: unknown): Promise<FieldMetadata>;
  updateField(workspaceId: string, input: { id?: unknown; update?: unknown }): Promise<FieldMetadata>;
  deleteField(workspaceId: string, input: { id?: unknown }): Promise<FieldMetadata>;
  close(): Promise<void>;
}

interface CacheEntry {
  model: DataModel;
  verifiedAt: number;
}

/** The spec of an object whether or not it is active (the data model holds active ones only). */
function specOf(metadata: WorkspaceMetadata, object: ObjectMetadata): ObjectSpec {
  if (!object.isCustom) return OBJECTS[object.nameSingular as StandardObjectName];
  return {
    nameSingular: object.nameSingular,
    namePlural: object.namePlural,
    typeName: object.nameSingular,
    typeNamePlural: object.namePlural,
    table: 'custom_records',
    objectMetadataId: object.id,
    fields: [],
  };
}

export function createMetadataService(database: Pick<Database, 'db' | 'listen'>, clock: Clock): MetadataService {
  const db: Kysely<DB> = database.db;
  const cache = new Map<string, CacheEntry>();
  /**
   * The newest version each workspace is known to have (from this process's changes and from notifications): a load
   * that read an older one, racing a change, is served to its caller but not cached.
   */
  const newestVersions = new Map<string, number>();
  let listening: Promise<Unlisten | undefined> | undefined;

  function noteVersion(workspaceId: string, version: number): void {
    const known = newestVersions.get(workspaceId) ?? 0;
    // Re-inserted so the most recently changed workspaces are the last forgotten.
    newestVersions.delete(workspaceId);
    newestVersions.set(workspaceId, Number.isFinite(version) ? Math.max(version, known) : known);
    // Bounded like the cache; forgetting an old entry only re-opens the (one-second) race it guarded.
    if (newestVersions.size > METADATA_CACHE_SIZE) newestVersions.delete(newestVersions.keys().next().value!);
  }

  function remember(workspaceId: string, model: DataModel): DataModel {
    if (model.metadata.version < (newestVersions.get(workspaceId) ?? 0)) return model;
    cache.delete(workspaceId);
    cache.set(workspaceId, { model, verifiedAt: clock.now().getTime() });
    if (cache.size > METADATA_CACHE_SIZE) cache.delete(cache.keys().next().value!);
    return model;
  }

  function startListening(): void {
    listening ??= database
      .listen(store.METADATA_CHANNEL, (payload) => {
        // An empty payload follows a reconnect: changes may have been missed, so forget everything.
        if (!payload) return cache.clear();
        const [workspaceId = '', versionText] = payload.split(':');
        const version = Number(versionText);
        noteVersion(workspaceId, version);
        const entry = cache.get(workspaceId);
        if (entry && entry.model.metadata.version < version) cache.delete(workspaceId);
      })
      // Without notifications the version recheck still bounds staleness.
      .catch(() => undefined);
  }

  async function load(workspaceId: string): Promise<DataModel> {
    const metadata = await store.loadWorkspaceMetadata(db, workspaceId);
    if (!metadata) throw new SwitchboardError('NOT_FOUND', `workspace ${workspaceId} not found`);
    return remember(workspaceId, buildDataModel(metadata));
  }

  async function model(workspaceId: string): Promise<DataModel> {
    startListening();
    const entry = cache.get(workspaceId);
    if (!entry) return load(workspaceId);
    if (clock.now().getTime() - entry.verifiedAt < METADATA_RECHECK_MS) return entry.model;
    const version = await store.metadataVersion(db, workspaceId);
    if (version !== entry.model.metadata.version) return load(workspaceId);
    entry.verifiedAt = clock.now().getTime();
    return entry.model;
  }

  /**
   * Runs a metadata change with the workspace locked (changes of one workspace run one at a time, so the name
   * checks see every committed object), bumps the version and refreshes this process's cache.
   */
  async function change<T>(workspaceId: string, work: (trx: Kysely<DB>, metadata: WorkspaceMetadata) => Promise<T>): Promise<T> {
    const result = await db.transaction().execute(async (trx) => {
      const metadata = await store.loadWorkspaceMetadata(trx, workspaceId, { lock: true });
      if (!metadata) throw new SwitchboardError('NOT_FOUND', `workspace ${workspaceId} not found`);
      const value = await work(trx, metadata);
      return { value, version: await store.bumpMetadataVersion(trx, workspaceId) };
    });
    noteVersion(workspaceId, result.version);
    cache.delete(workspaceId);
    return result.value;
  }

  function objectById(metadata: WorkspaceMetadata, id: unknown, path: string): ObjectMetadata {
    if (!isUuid(id)) throw invalidInput(path, `must be the id of an object, not ${JSON.stringify(id)}`);
    const object = metadata.objects.find((candidate) => candidate.id === id.toLowerCase());
    if (!object) throw notFound('object', id);
    return object;
  }

  function fieldById(metadata: WorkspaceMetadata, id: unknown, path: string): FieldMetadata {
    if (!isUuid(id)) throw invalidInput(path, `must be the id of a field, not ${JSON.stringify(id)}`);
    const field = metadata.fields.find((candidate) => candidate.id === id.toLowerCase());
    if (!field) throw notFound('field', id);
    return field;
  }

  /**
   * Refuses a deletion that would leave a webhook naming what is gone: its operations naming the deleted object, or
   * its filter or fields list naming a field no remaining object has. Deleting is for good (a later object or field
   * of the same name is another one), so the webhook is changed first, knowingly, rather than silently starved.
   */
  async function assertNoWebhookNames(trx: Kysely<DB>, workspaceId: string, remaining: WorkspaceMetadata, deletedObject?: string): Promise<void> {
    const screens = screenModelOf(buildDataModel(remaining));
    const problems: string[] = [];
    for (const webhook of await listWebhooks(trx, workspaceId)) {
      const named = deletedObject && webhook.operations.find((entry) => parseOperation(entry, 'operation', 'any').object === deletedObject);
      const problem = named ? `its operations name ${named}` : storedScreenProblem(webhook, screens);
      if (problem) problems.push(`webhook ${webhook.id} (${webhook.targetUrl}): ${problem}`);
    }
    if (problems.length > 0) {
      throw new SwitchboardError('CONFLICT', `change these webhooks first: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? `; and ${problems.length - 5} more` : ''}`);
    }
  }

  function requireInput(input: unknown): Record<string, unknown> {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalidInput('input', 'must be an object');
    return input as Record<string, unknown>;
  }

  return {
    model,

    async listObjects(workspaceId) {
      return (await model(workspaceId)).metadata.objects;
    },

    async findObject(workspaceId, id) {
      return (await model(workspaceId)).metadata.objects.find((object) => object.id === id.toLowerCase());
    },

    createObject(workspaceId, input) {
      return change(workspaceId, async (trx, metadata) => {
        const object = validateNewObject(requireInput(input).object, metadata.objects);
        return store.insertObject(trx, workspaceId, randomUUID(), object, clock.now());
      });
    },

    updateObject(workspaceId, input) {
      return change(workspaceId, async (trx, metadata) => {
        const current = objectById(metadata, requireInput(input).id, 'input.id');
        const changes = validateObjectChanges(input.update, current);
        if (Object.keys(changes).length === 0) return current;
        return store.updateObject(trx, current.id, changes, clock.now());
      });
    },

    deleteObject(workspaceId, input) {
      return change(workspaceId, async (trx, metadata) => {
        const object = objectById(metadata, requireInput(input).id, 'input.id');
        if (!object.isCustom) throw invalidInput('input.id', `${object.nameSingular} is a standard object: it cannot be deleted`);
        if (object.isActive) {
          throw invalidInput('input.id', `${object.nameSingular} is active: deactivate it first (updateOneObject with isActive: false), then delete it`);
        }
        const pointing = metadata.fields.filter(
          (field) => field.relationTargetObjectMetadataId === object.id && field.objectMetadataId !== object.id,
        );
        if (pointing.length > 0) {
          const names = pointing.map((field) => `${metadata.objects.find((o) => o.id === field.objectMetadataId)?.nameSingular}.${field.name}`);
          throw new SwitchboardError('CONFLICT', `${object.nameSingular} is the target of the relation fields ${names.join(', ')}; delete those fields first`);
        }
        await assertNoWebhookNames(
          trx,
          workspaceId,
          {
            ...metadata,
            objects: metadata.objects.filter((candidate) => candidate.id !== object.id),
            fields: metadata.fields.filter((field) => field.objectMetadataId !== object.id),
          },
          object.nameSingular,
        );
        // Its records go with it (custom_records cascade), without events: see README, custom objects.
        await store.deleteObject(trx, object.id);
        return object;
      });
    },

    async listFields(workspaceId) {
      return (await model(workspaceId)).metadata.fields;
    },

    async findField(workspaceId, id) {
      return (await model(workspaceId)).metadata.fields.find((field) => field.id === id.toLowerCase());
    },

    createField(workspaceId, input) {
      return change(workspaceId, async (trx, metadata) => {
        const field = validateNewField(requireInput(input).field, metadata);
        const object = metadata.objects.find((candidate) => candidate.id === field.objectMetadataId)!;
        const id = randomUUID();
        const created = await store.insertField(trx, workspaceId, id, field, clock.now());
        const spec = customFieldSpec(created, new Map(metadata.objects.map((o) => [o.id, o])));
        await createFieldIndex(trx, specOf(metadata, object), workspaceId, id, spec);
        return created;
      });
    },

    updateField(workspaceId, input) {
      return change(workspaceId, async (trx, metadata) => {
        const current = fieldById(metadata, requireInput(input).id, 'input.id');
        const changes = validateFieldChanges(input.update, current);
        if (Object.keys(changes).length === 0) return current;
        return store.updateField(trx, current.id, changes, clock.now());
      });
    },

    deleteField(workspaceId, input) {
      return change(workspaceId, async (trx, metadata) => {
        const field = fieldById(metadata, requireInput(input).id, 'input.id');
        if (!field.isCustom) throw invalidInput('input.id', `${field.name} is a standard field: it cannot be deleted`);
        if (field.isActive) {
          throw invalidInput('input.id', `${field.name} is active: deactivate it first (updateOneField with isActive: false), then delete it`);
        }
        const object = metadata.objects.find((candidate) => candidate.id === field.objectMetadataId)!;
        await assertNoWebhookNames(trx, workspaceId, { ...metadata, fields: metadata.fields.filter((candidate) => candidate.id !== field.id) });
        await store.deleteField(trx, field.id);
        await dropFieldIndex(trx, field.id);
        // Its stored values go too, so a later field of the same name (perhaps of another type) starts empty.
        await removeDocumentKey(trx, specOf(metadata, object), workspaceId, apiFieldName(field));
        return field;
      });
    },

    async close() {
      const unlisten = await listening;
      await unlisten?.();
    },
  };
}
