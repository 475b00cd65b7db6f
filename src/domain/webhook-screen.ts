import { invalidInput } from './errors.ts';
import type { FieldDescriptor, FieldType } from './field-types.ts';
import { EVENT_OBJECTS, isOperationalOperation, parseOperation, type EventObject } from './operations.ts';
import { evaluateRecordFilter, parseRecordFilter, SYSTEM_FIELD_DESCRIPTORS, type RecordFilter } from './record-filter.ts';
import { OBJECTS, type FieldKind } from './records.ts';

/**
 * A webhook's screen (contract §10): `filter`, a record filter tested against the event's record (the state after
 * the operation, the last state for deleted and destroyed), and `fields`, which lets an `updated` event through
 * only when its updatedFields share a name with the list. An event that does not pass creates no delivery.
 */

/** Most names a webhook's `fields` list may hold. */
export const MAX_WEBHOOK_FIELDS = 100;

const TYPE_OF_KIND: Readonly<Record<FieldKind, FieldType>> = {
  text: 'TEXT',
  email: 'TEXT',
  integer: 'NUMBER',
  number: 'NUMBER',
  datetime: 'DATE_TIME',
  reference: 'RELATION',
  boolean: 'BOOLEAN',
  date: 'DATE',
  select: 'SELECT',
  multiSelect: 'MULTI_SELECT',
  currency: 'CURRENCY',
  json: 'RAW_JSON',
  uuid: 'UUID',
};

/** The fields of a standard object as a record filter sees them: its own fields and the system fields. */
export function objectFieldDescriptors(object: EventObject): FieldDescriptor[] {
  return [...SYSTEM_FIELD_DESCRIPTORS, ...OBJECTS[object].fields.map((field) => ({ name: field.name, type: TYPE_OF_KIND[field.kind] }))];
}

/** The objects a webhook's operation patterns can match (every object for a `*`). */
export function objectsOfOperations(operations: readonly string[]): EventObject[] {
  const objects = new Set<EventObject>();
  for (const entry of operations) {
    // Screens know the standard objects' fields; a custom object's name is valid in operations (checked by the
    // webhook service against the workspace) but adds no fields a screen may name.
    const { object } = parseOperation(entry, 'operation', 'any');
    if (object === '*') return [...EVENT_OBJECTS];
    if ((EVENT_OBJECTS as readonly string[]).includes(object)) objects.add(object as EventObject);
  }
  return EVENT_OBJECTS.filter((object) => objects.has(object));
}

/** The fields of every object in `objects`, each name once (a name shared by objects has the same type in each). */
function unionOfFields(objects: readonly EventObject[]): FieldDescriptor[] {
  const byName = new Map<string, FieldDescriptor>();
  for (const object of objects) {
    for (const field of objectFieldDescriptors(object)) if (!byName.has(field.name)) byName.set(field.name, field);
  }
  return [...byName.values()];
}

const ALL_FIELDS = unionOfFields(EVENT_OBJECTS);

/**
 * Validates a webhook's filter against the fields of the objects its operations can match; errors name the bad
 * part under `path` (e.g. `filter.and[1].amount.gt`). Null means no filter.
 */
export function validateWebhookFilter(filter: unknown, operations: readonly string[], path = 'filter'): RecordFilter | null {
  if (filter === null || filter === undefined) return null;
  return parseRecordFilter(filter, unionOfFields(objectsOfOperations(operations)), {}, path);
}

/** Validates a webhook's `fields` list: names of fields of the objects its operations can match, deduplicated. */
export function validateWebhookFields(fields: readonly unknown[] | null | undefined, operations: readonly string[], path = 'fields'): string[] | null {
  if (fields === null || fields === undefined) return null;
  if (fields.length === 0) throw invalidInput(path, 'must name at least one field, or be null to deliver every change');
  if (fields.length > MAX_WEBHOOK_FIELDS) throw invalidInput(path, `must name at most ${MAX_WEBHOOK_FIELDS} fields (got ${fields.length})`);
  const known = new Set(unionOfFields(objectsOfOperations(operations)).map((field) => field.name));
  fields.forEach((name, index) => {
    if (typeof name !== 'string' || !known.has(name)) {
      throw invalidInput(`${path}[${index}]`, `${JSON.stringify(name)} is not a field of ${objectsOfOperations(operations).join(', ')}; known fields: ${[...known].join(', ')}`);
    }
  });
  return [...new Set(fields as string[])];
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

const parsedFilters = new Map<string, RecordFilter | null>();
const PARSED_FILTERS_KEPT = 1_000;

/**
 * The parsed form of a stored filter, kept by its text so a write does not parse the same filter again. It was
 * validated when saved; one that no longer parses (null) lets nothing through rather than everything.
 */
function storedFilter(filterJson: string): RecordFilter | null {
  let parsed = parsedFilters.get(filterJson);
  if (parsed === undefined) {
    try {
      parsed = parseRecordFilter(JSON.parse(filterJson), ALL_FIELDS);
    } catch {
      parsed = null;
    }
    if (parsedFilters.size >= PARSED_FILTERS_KEPT) parsedFilters.clear();
    parsedFilters.set(filterJson, parsed);
  }
  return parsed;
}

/** Whether an `updated` event changed one of `fields` (null: any change counts). */
export function passesFields(fields: readonly string[] | null, event: Pick<ScreenedEvent, 'operation' | 'updatedFields'>): boolean {
  if (fields === null || !event.operation.endsWith('.updated')) return true;
  return (event.updatedFields ?? []).some((name) => fields.includes(name));
}

/**
 * Whether an event passes a webhook's screen (its operations are matched elsewhere). A screen is about records:
 * Switchboard's own events (webhook.disabled, delivery.failed), which a webhook gets only by naming them, pass it.
 */
export function passesScreen(screen: StoredScreen, event: ScreenedEvent): boolean {
  if (isOperationalOperation(event.operation)) return true;
  if (!passesFields(screen.fields, event)) return false;
  if (screen.filterJson === null) return true;
  const filter = storedFilter(screen.filterJson);
  return filter !== null && evaluateRecordFilter(filter, event.record);
}

/** Whether a webhook with this screen needs an event of `operation` screened at all (else it is delivered as matched). */
export function screensOperation(screen: StoredScreen, operation: string): boolean {
  if (isOperationalOperation(operation)) return false;
  return screen.filterJson !== null || (screen.fields !== null && operation.endsWith('.updated'));
}
