import { invalidInput } from './errors.ts';
import type { FieldDescriptor } from './field-types.ts';
import { EVENT_OBJECTS, isOperationalOperation, parseOperation } from './operations.ts';
import { evaluateRecordFilter, parseRecordFilter, SYSTEM_FIELD_DESCRIPTORS, type RecordFilter } from './record-filter.ts';
import { allObjectSpecs, filterDescriptors, type DataModel } from './metadata.ts';
import { OBJECTS, type ObjectSpec } from './records.ts';

/**
 * A webhook's screen (contract §10): `filter`, a record filter tested against the event's record (the state after
 * the operation, the last state for deleted and destroyed), and `fields`, which lets an `updated` event through
 * only when its updatedFields share a name with the list. An event that does not pass creates no delivery.
 */

/** Most names a webhook's `fields` list may hold. */
export const MAX_WEBHOOK_FIELDS = 100;

/**
 * What screens know of a workspace's data model: the fields a filter or a `fields` list may name on each object.
 * `objects` holds the active objects with their active fields (what a webhook being saved may name, as the records
 * API shows them); `storedObjects` every object with every field, active or not, which stored screens are read
 * with, so that deactivating a field or an object never makes a saved filter unreadable (its values are then
 * absent from payloads and compare as NULL).
 */
export interface ScreenModel {
  objects: ReadonlyMap<string, readonly FieldDescriptor[]>;
  storedObjects: ReadonlyMap<string, readonly FieldDescriptor[]>;
}

/** An object's fields as a screen sees them: the system fields, then its own. */
function screenFields(object: ObjectSpec): FieldDescriptor[] {
  return [...SYSTEM_FIELD_DESCRIPTORS, ...filterDescriptors(object).filter((field) => !SYSTEM_FIELD_DESCRIPTORS.some((system) => system.name === field.name))];
}

function objectsOf(specs: readonly ObjectSpec[]): Map<string, readonly FieldDescriptor[]> {
  return new Map(specs.map((object) => [object.nameSingular, screenFields(object)]));
}

/** The standard objects and fields alone (a workspace without custom ones). */
export const STANDARD_SCREEN_MODEL: ScreenModel = (() => {
  const objects = objectsOf(EVENT_OBJECTS.map((name) => OBJECTS[name]));
  return { objects, storedObjects: objects };
})();

const screenModels = new WeakMap<DataModel, ScreenModel>();

/** The screen model of a workspace's data model (kept with it, so its parsed filters are reused). */
export function screenModelOf(model: DataModel): ScreenModel {
  let screen = screenModels.get(model);
  if (!screen) {
    screen = { objects: objectsOf(model.objects), storedObjects: objectsOf(allObjectSpecs(model.metadata)) };
    screenModels.set(model, screen);
  }
  return screen;
}

/** The objects of `model` a webhook's operation patterns can match (every object for a `*`), in the model's order. */
export function objectsOfOperations(operations: readonly string[], model: ScreenModel = STANDARD_SCREEN_MODEL): string[] {
  const names = new Set<string>();
  for (const entry of operations) {
    // An operation naming an object the model lacks (checked by the webhook service) adds no fields.
    const { object } = parseOperation(entry, 'operation', 'any');
    if (object === '*') return [...model.objects.keys()];
    if (model.objects.has(object)) names.add(object);
  }
  return [...model.objects.keys()].filter((name) => names.has(name));
}

/**
 * The fields of every object in `names`, each name once. The first object's fields come first, so where two objects
 * give one name different types (opportunity.amount is a NUMBER, a custom invoice.amount may be a CURRENCY), that
 * object's type is the one a filter is read with.
 */
function unionOfFields(objects: ReadonlyMap<string, readonly FieldDescriptor[]>, names: Iterable<string>): FieldDescriptor[] {
  const byName = new Map<string, FieldDescriptor>();
  for (const name of names) {
    for (const field of objects.get(name) ?? []) if (!byName.has(field.name)) byName.set(field.name, field);
  }
  return [...byName.values()];
}

/**
 * Validates a webhook's filter against the fields of the objects its operations can match; errors name the bad
 * part under `path` (e.g. `filter.and[1].amount.gt`). Null means no filter.
 */
export function validateWebhookFilter(
  filter: unknown,
  operations: readonly string[],
  path = 'filter',
  model: ScreenModel = STANDARD_SCREEN_MODEL,
): RecordFilter | null {
  if (filter === null || filter === undefined) return null;
  const objects = objectsOfOperations(operations, model);
  let refusal: unknown;
  // Valid when it reads with some matched object's fields first: where objects give one name different types
  // (`amount`), each reading gives the name one of them, and an event is tested with its own object's reading.
  for (const first of objects.length > 0 ? objects : [undefined]) {
    try {
      return parseRecordFilter(filter, unionOfFields(model.objects, first === undefined ? objects : [first, ...objects]), {}, path);
    } catch (error) {
      refusal ??= error;
    }
  }
  throw refusal;
}

/** Validates a webhook's `fields` list: names of fields of the objects its operations can match, deduplicated. */
export function validateWebhookFields(
  fields: readonly unknown[] | null | undefined,
  operations: readonly string[],
  path = 'fields',
  model: ScreenModel = STANDARD_SCREEN_MODEL,
): string[] | null {
  if (fields === null || fields === undefined) return null;
  if (fields.length === 0) throw invalidInput(path, 'must name at least one field, or be null to deliver every change');
  if (fields.length > MAX_WEBHOOK_FIELDS) throw invalidInput(path, `must name at most ${MAX_WEBHOOK_FIELDS} fields (got ${fields.length})`);
  const objects = objectsOfOperations(operations, model);
  const known = new Set(unionOfFields(model.objects, objects).map((field) => field.name));
  fields.forEach((name, index) => {
    if (typeof name !== 'string' || !known.has(name)) {
      throw invalidInput(`${path}[${index}]`, `${JSON.stringify(name)} is not a field of ${objects.join(', ')}; known fields: ${[...known].join(', ')}`);
    }
  });
  return [...new Set(fields as string[])];
}

/**
 * Why a saved screen could no longer be read against `model` (e.g. after a field it names is deleted), or
 * undefined when it still can. The metadata service refuses a deletion that would leave such a webhook.
 */
export function storedScreenProblem(screen: { filter: unknown; fields: readonly string[] | null }, model: ScreenModel): string | undefined {
  const all = unionOfFields(model.storedObjects, model.storedObjects.keys());
  if (screen.filter !== null && screen.filter !== undefined) {
    // Read as at event time: some object's reading must accept it.
    const readable = [...model.storedObjects.keys()].some((object) => parseStored(screen.filter, model, object) !== null);
    if (!readable) {
      try {
        parseRecordFilter(screen.filter, all);
      } catch (error) {
        return `its filter would no longer be valid (${(error as Error).message})`;
      }
    }
  }
  const names = new Set(all.map((field) => field.name));
  const missing = (screen.fields ?? []).filter((name) => !names.has(name));
  if (missing.length > 0) return `its fields list names ${missing.join(', ')}, which no object would have`;
  return undefined;
}

/** What screening needs of an event. */
export interface ScreenedEvent {
  operation: string;
  record: Readonly<Record<string, unknown>>;
  updatedFields: readonly string[] | null;
}

/** A stored screen: the filter as its JSON text (as read from the database) and the fields list. */
export interface StoredScreen {
  filterJson: string | null;
  fields: readonly string[] | null;
}

/** Parsed stored filters per screen model, by event object and filter text. */
const parsedFilters = new WeakMap<ScreenModel, Map<string, RecordFilter | null>>();
const PARSED_FILTERS_KEPT = 1_000;

/**
 * A stored filter read for an event of `object`: with that object's fields first (their types decide how its
 * values compare), then every other object's; failing that, with every field in the model's order (a filter
 * saved for another object's type of a shared name, which the event's record cannot satisfy but an `or` may).
 * Null when it cannot be read at all.
 */
function parseStored(filter: unknown, model: ScreenModel, object: string): RecordFilter | null {
  const names = [object, ...model.storedObjects.keys()];
  for (const order of [names, [...model.storedObjects.keys()]]) {
    try {
      return parseRecordFilter(filter, unionOfFields(model.storedObjects, order));
    } catch {
      // Tried the next reading.
    }
  }
  return null;
}

/**
 * The parsed form of a stored filter, kept by its text so a write does not parse the same filter again. It was
 * validated when saved; one that no longer parses (null) lets nothing through rather than everything.
 */
function storedFilter(filterJson: string, model: ScreenModel, object: string): RecordFilter | null {
  let cache = parsedFilters.get(model);
  if (!cache) {
    cache = new Map();
    parsedFilters.set(model, cache);
  }
  const key = `${object}\u0000${filterJson}`;
  let parsed = cache.get(key);
  if (parsed === undefined) {
    let filter: unknown;
    try {
      filter = JSON.parse(filterJson);
    } catch {
      filter = undefined;
    }
    parsed = filter === undefined ? null : parseStored(filter, model, object);
    if (cache.size >= PARSED_FILTERS_KEPT) cache.clear();
    cache.set(key, parsed);
  }
  return parsed;
}

/** Whether an `updated` event changed one of `fields` (null: any change counts). */
export function passesFields(fields: readonly string[] | null, event: Pick<ScreenedEvent, 'operation' | 'updatedFields'>): boolean {
  if (fields === null || !event.operation.endsWith('.updated')) return true;
  return (event.updatedFields ?? []).some((name) => fields.includes(name));
}

/**
/**
 * Whether an event passes a webhook's screen (its operations are matched elsewhere), reading the filter with the
 * fields of the event's workspace (`model`). A screen is about records: Switchboard's own events
 * (webhook.disabled, delivery.failed), which a webhook gets only by naming them, pass it.
 */
export function passesScreen(screen: StoredScreen, event: ScreenedEvent, model: ScreenModel = STANDARD_SCREEN_MODEL): boolean {
  if (isOperationalOperation(event.operation)) return true;
  if (!passesFields(screen.fields, event)) return false;
  if (screen.filterJson === null) return true;
  const filter = storedFilter(screen.filterJson, model, event.operation.slice(0, event.operation.indexOf('.')));
  return filter !== null && evaluateRecordFilter(filter, event.record);
}

/** Whether a webhook with this screen needs an event of `operation` screened at all (else it is delivered as matched). */
export function screensOperation(screen: StoredScreen, operation: string): boolean {
  if (isOperationalOperation(operation)) return false;
  return screen.filterJson !== null || (screen.fields !== null && operation.endsWith('.updated'));
}
