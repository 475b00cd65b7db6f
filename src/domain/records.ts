import { invalidInput, SwitchboardError } from './errors.ts';
import { requireStorableText } from './stored-text.ts';
import type { FieldType } from './field-types.ts';

/**
 * The record objects (people, companies, opportunities): their fields, how input for them is validated,
 * and how a stored row becomes the camelCase record that the API returns and events carry.
 */

/** An object's singular name (Twenty's `nameSingular`): a standard one or one of the workspace's custom objects. */
export type ObjectName = string;
export type StandardObjectName = 'person' | 'company' | 'opportunity';

/**
 * text: a string up to maxLength characters; email: an email address; integer: a non-negative 32-bit integer;
 * number: any finite number; datetime: an ISO 8601 date or date-time; reference: the id of a record of `references`;
 * boolean; date: a calendar day YYYY-MM-DD; select: one of `options`; multiSelect: distinct values of `options`;
 * currency: `{ amountMicros, currencyCode }`; json: any JSON value; uuid: any UUID.
 */
export type FieldKind =
  | 'text'
  | 'email'
  | 'integer'
  | 'number'
  | 'datetime'
  | 'reference'
  | 'boolean'
  | 'date'
  | 'select'
  | 'multiSelect'
  | 'currency'
  | 'json'
  | 'uuid';

export interface FieldSpec {
  /** camelCase name in the API and in payloads (a relation's `{name}Id`). */
  name: string;
  /** snake_case column of a standard field; a custom field has none: it is a key of the record's jsonb document. */
  column?: string;
  kind: FieldKind;
  /** Its type in Twenty's data model, as filters and the metadata API see it. */
  type: FieldType;
  /** For text and email: the most characters (UTF-16 code units) accepted. */
  maxLength?: number;
  /** For reference: the object whose id it holds. */
  references?: ObjectName;
  /** For select and multiSelect: the allowed values. */
  options?: readonly string[];
  /** False: the field must hold a value (its default fills it when an input leaves it out). */
  nullable?: boolean;
  /** Given to a created record that leaves the field out, and read for records stored before the field existed. */
  defaultValue?: FieldValue;
}

/** Where an object's records live: a standard table, or the custom objects' shared table. */
export type RecordTable = 'people' | 'companies' | 'opportunities' | 'custom_records';

export interface ObjectSpec {
  nameSingular: ObjectName;
  namePlural: string;
  /** Type name in GraphQL, e.g. `Person`. */
  typeName: string;
  /** Plural type-name form for batch mutations, e.g. `People` in createPeople. */
  typeNamePlural: string;
  table: RecordTable;
  /** For a custom object: its metadata id, which keys its rows in custom_records. */
  objectMetadataId?: string;
  fields: readonly FieldSpec[];
}

/** The jsonb column holding the fields without a column of their own. */
export function jsonColumnOf(object: ObjectSpec): 'custom' | 'data' {
  return object.table === 'custom_records' ? 'data' : 'custom';
}

/** The common text bound: generous for names, titles and cities. */
export const SHORT_TEXT_MAX = 1_000;
/**
 * Long text (a company's address) is accepted up to 2 Mi characters so that the 1 MiB payload limit, not a field
 * bound, is what stops an oversized record (with PAYLOAD_TOO_LARGE rather than a length error).
 */
export const LONG_TEXT_MAX = 2 * 1024 * 1024;
export const EMAIL_MAX = 254;
export const INTEGER_MAX = 2_147_483_647;
/** Most records one batch create accepts. */
export const MAX_BATCH_SIZE = 500;

const text = (name: string, column: string, maxLength = SHORT_TEXT_MAX): FieldSpec => ({ name, column, kind: 'text', type: 'TEXT', maxLength });
const reference = (name: string, column: string, references: StandardObjectName): FieldSpec => ({
  name,
  column,
  kind: 'reference',
  type: 'RELATION',
  references,
});

/** The standard objects with their standard fields (a workspace's custom fields are added to these). */
export const OBJECTS: Readonly<Record<StandardObjectName, ObjectSpec>> = {
  person: {
    nameSingular: 'person',
    namePlural: 'people',
    typeName: 'Person',
    typeNamePlural: 'People',
    table: 'people',
    fields: [
      text('firstName', 'first_name'),
      text('lastName', 'last_name'),
      { name: 'email', column: 'email', kind: 'email', type: 'TEXT', maxLength: EMAIL_MAX },
      text('jobTitle', 'job_title'),
      text('phone', 'phone', 100),
      text('city', 'city'),
      reference('companyId', 'company_id', 'company'),
    ],
  },
  company: {
    nameSingular: 'company',
    namePlural: 'companies',
    typeName: 'Company',
    typeNamePlural: 'Companies',
    table: 'companies',
    fields: [
      text('name', 'name'),
      text('domainName', 'domain_name', 2_048),
      { name: 'employees', column: 'employees', kind: 'integer', type: 'NUMBER' },
      text('address', 'address', LONG_TEXT_MAX),
    ],
  },
  opportunity: {
    nameSingular: 'opportunity',
    namePlural: 'opportunities',
    typeName: 'Opportunity',
    typeNamePlural: 'Opportunities',
    table: 'opportunities',
    fields: [
      text('name', 'name'),
      { name: 'amount', column: 'amount', kind: 'number', type: 'NUMBER' },
      text('stage', 'stage', 100),
      { name: 'closeDate', column: 'close_date', kind: 'datetime', type: 'DATE_TIME' },
      reference('companyId', 'company_id', 'company'),
      reference('pointOfContactId', 'point_of_contact_id', 'person'),
    ],
  },
};

export const OBJECT_NAMES = Object.keys(OBJECTS) as StandardObjectName[];

/** Fields every record has besides its own, set by the server only. */
export const SYSTEM_FIELDS = ['id', 'createdAt', 'updatedAt', 'deletedAt'] as const;

/** A field value as the API and payloads carry it: timestamps are ISO strings; currencies, lists and RAW_JSON are JSON. */
export type FieldValue = string | number | boolean | null | FieldValue[] | { [key: string]: FieldValue };
/** A record as the API returns it and events carry it: id, the object's fields, createdAt, updatedAt, deletedAt. */
export type RecordData = Record<string, FieldValue>;
/** Validated values of the fields an input gives (absent fields are not touched). */
export type FieldValues = Record<string, FieldValue>;

export interface ValidatedInput {
  /** A client-chosen id (create only). */
  id?: string;
  values: FieldValues;
}

/** A row as read from the table: snake_case columns, Date timestamps. */
export type RecordRow = Record<string, unknown>;

/** Which fields of `objects` may hold a reference to a record of `target`: (object, field) pairs, for destroy checks. */
export function referencesTo(objects: readonly ObjectSpec[], target: ObjectName): Array<{ object: ObjectSpec; field: FieldSpec }> {
  return objects.flatMap((object) =>
    object.fields.filter((field) => field.references === target).map((field) => ({ object, field })),
  );
}

/** The one UUID rule (any version, either case): ids from clients, cursors and storage are checked with it. */
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Deliberately simple: one @, no spaces, a dot in the domain. Real validation is sending a mail.
const EMAIL_PATTERN = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const ISO_DATE_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? `a string` : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/**
 * The instants every store and format here can hold: PostgreSQL's timestamptz has no year 0 and JavaScript's ISO
 * strings turn to six-digit years outside 0001 to 9999, which PostgreSQL cannot read.
 */
export const EARLIEST_INSTANT = Date.parse('0001-01-01T00:00:00.000Z');
export const LATEST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');
/** How the accepted range reads in error messages. */
export const INSTANT_RANGE = 'from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z';

/** True when `date` is a valid instant inside the range every store holds. */
export function isStorableInstant(date: Date): boolean {
  const time = date.getTime();
  return time >= EARLIEST_INSTANT && time <= LATEST_INSTANT;
}

/**
 * An ISO 8601 date or date-time as a canonical ISO string, or undefined when it is not one (e.g. 2024-02-30) or
 * falls outside the storable range (e.g. 0000-01-01, or 0001-01-01T00:00:00+01:00).
 */
export function parseIsoDateTime(value: string): string | undefined {
  const match = ISO_DATE_PATTERN.exec(value);
  if (!match) return undefined;
  const [, year, month, day, hour = '0', minute = '0', second = '0'] = match;
  const calendarDay = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  // Date.parse accepts 2024-02-30 and rolls it into March; a user means a mistake.
  if (calendarDay.getUTCMonth() !== Number(month) - 1 || calendarDay.getUTCDate() !== Number(day)) return undefined;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return undefined;
  // A date without a zone is read as UTC, as GraphQL's DateTime and JSON dates usually mean.
  const zoned = match[7] || !match[4] ? value : `${value}Z`;
  const date = new Date(Date.parse(zoned.replace(' ', 'T')));
  return isStorableInstant(date) ? date.toISOString() : undefined;
}

/** The largest JSON text (UTF-16 code units) a RAW_JSON value may take; the payload limit still applies. */
export const RAW_JSON_MAX = 256 * 1024;
/** Most values a MULTI_SELECT holds. */
export const MULTI_SELECT_MAX = 200;
const CURRENCY_CODE_PATTERN = /^[A-Z]{3}$/;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

function validateText(field: FieldSpec, value: unknown, path: string): string {
  if (typeof value !== 'string') throw invalidInput(path, `must be a string or null, not ${describe(value)}`);
  const maxLength = field.maxLength ?? SHORT_TEXT_MAX;
  if (value.length > maxLength) throw invalidInput(path, `must be at most ${maxLength} characters (got ${value.length})`);
  return requireStorableText(value, path);
}

function validateOption(field: FieldSpec, value: unknown, path: string): string {
  const options = field.options ?? [];
  if (typeof value !== 'string' || !options.includes(value)) {
    throw invalidInput(path, `must be one of ${options.join(', ')}, not ${describe(value)}`);
  }
  return value;
}

/** Validates one field value; returns it in stored form (datetimes as ISO strings, ids lowercased). */
export function validateFieldValue(field: FieldSpec, value: unknown, path: string): FieldValue {
  if (value === null) {
    if (field.nullable === false) throw invalidInput(path, 'must not be null');
    return null;
  }
  switch (field.kind) {
    case 'text':
      return validateText(field, value, path);
    case 'email': {
      const text = validateText(field, value, path);
      if (!EMAIL_PATTERN.test(text)) throw invalidInput(path, `must be an email address, not ${describe(value)}`);
      return text;
    }
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > INTEGER_MAX) {
        throw invalidInput(path, `must be a whole number from 0 to ${INTEGER_MAX}, not ${describe(value)}`);
      }
      return value;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidInput(path, `must be a finite number, not ${describe(value)}`);
      return value;
    case 'boolean':
      if (typeof value !== 'boolean') throw invalidInput(path, `must be true, false or null, not ${describe(value)}`);
      return value;
    case 'datetime': {
      if (value instanceof Date) {
        if (!isStorableInstant(value)) throw invalidInput(path, `must be a date ${INSTANT_RANGE}`);
        return value.toISOString();
      }
      const iso = typeof value === 'string' ? parseIsoDateTime(value) : undefined;
      if (!iso) {
        throw invalidInput(path, `must be an ISO 8601 date or date-time ${INSTANT_RANGE} (e.g. 2024-03-04 or 2024-03-04T11:00:00Z), not ${describe(value)}`);
      }
      return iso;
    }
    case 'date': {
      const match = typeof value === 'string' ? DATE_PATTERN.exec(value) : null;
      if (!match || !parseIsoDateTime(value as string)) throw invalidInput(path, `must be a calendar day YYYY-MM-DD (e.g. 2024-03-04), not ${describe(value)}`);
      return value as string;
    }
    case 'select':
      return validateOption(field, value, path);
    case 'multiSelect': {
      if (!Array.isArray(value)) throw invalidInput(path, `must be an array of options (${(field.options ?? []).join(', ')}), not ${describe(value)}`);
      if (value.length > MULTI_SELECT_MAX) throw invalidInput(path, `must hold at most ${MULTI_SELECT_MAX} values`);
      const chosen = value.map((entry, index) => validateOption(field, entry, `${path}[${index}]`));
      const repeated = chosen.findIndex((entry, index) => chosen.indexOf(entry) !== index);
      if (repeated >= 0) throw invalidInput(`${path}[${repeated}]`, `repeats ${JSON.stringify(chosen[repeated])}`);
      return chosen;
    }
    case 'currency': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw invalidInput(path, `must be an object { amountMicros, currencyCode }, not ${describe(value)}`);
      }
      const { amountMicros = null, currencyCode = null, ...rest } = value as Record<string, unknown>;
      const unknownKey = Object.keys(rest)[0];
      if (unknownKey !== undefined) throw invalidInput(`${path}.${unknownKey}`, 'is not part of a currency (amountMicros, currencyCode)');
      if (amountMicros !== null && (typeof amountMicros !== 'number' || !Number.isSafeInteger(amountMicros))) {
        throw invalidInput(`${path}.amountMicros`, `must be a whole number of millionths (e.g. 12500000 for 12.50), not ${describe(amountMicros)}`);
      }
      if (currencyCode !== null && (typeof currencyCode !== 'string' || !CURRENCY_CODE_PATTERN.test(currencyCode))) {
        throw invalidInput(`${path}.currencyCode`, `must be an ISO 4217 code of three capital letters (e.g. EUR), not ${describe(currencyCode)}`);
      }
      return { amountMicros: amountMicros as number | null, currencyCode: currencyCode as string | null };
    }
    case 'json': {
      let text: string;
      try {
        // Every key and string inside must be storable text (jsonb refuses NUL and lone surrogates).
        text = JSON.stringify(value, (key: string, entry: unknown) => {
          requireStorableText(key, path);
          if (typeof entry === 'string') requireStorableText(entry, path);
          return entry;
        });
      } catch (error) {
        if (error instanceof SwitchboardError) throw error;
        throw invalidInput(path, 'must be a JSON value');
      }
      if (text === undefined) throw invalidInput(path, 'must be a JSON value');
      if (text.length > RAW_JSON_MAX) throw invalidInput(path, `must be at most ${RAW_JSON_MAX} characters as JSON (got ${text.length})`);
      return JSON.parse(text) as FieldValue;
    }
    case 'uuid':
      if (!isUuid(value)) throw invalidInput(path, `must be a UUID, not ${describe(value)}`);
      return value.toLowerCase();
    case 'reference':
      if (!isUuid(value)) throw invalidInput(path, `must be the UUID of a ${field.references}, not ${describe(value)}`);
      return value.toLowerCase();
  }
}

/**
 * Validates a create (`mode: 'create'`, which may give an `id`) or update input for `object`.
 * Unknown and read-only fields are refused; every error names its field under `path` (e.g. `data.email`).
 * A create gets each left-out field's default, and must end with a value for every non-nullable field.
 */
export function validateRecordInput(object: ObjectSpec, input: unknown, mode: 'create' | 'update', path: string): ValidatedInput {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalidInput(path, `must be an object of ${object.typeName} fields, not ${describe(input)}`);
  }
  const result: ValidatedInput = { values: {} };
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    const fieldPath = `${path}.${key}`;
    if (value === undefined) continue;
    const field = object.fields.find((candidate) => candidate.name === key);
    if (field) {
      result.values[key] = validateFieldValue(field, value, fieldPath);
    } else if (key === 'id' && mode === 'create') {
      if (value === null) continue;
      if (!isUuid(value)) throw invalidInput(fieldPath, `must be a UUID, not ${describe(value)}`);
      result.id = value.toLowerCase();
    } else if ((SYSTEM_FIELDS as readonly string[]).includes(key)) {
      throw invalidInput(fieldPath, 'is set by the server and cannot be written');
    } else {
      throw invalidInput(fieldPath, `is not a field of ${object.typeName} (fields: ${object.fields.map((f) => f.name).join(', ')})`);
    }
  }
  if (mode === 'create') {
    for (const field of object.fields) {
      if (field.name in result.values) continue;
      if (field.defaultValue !== undefined && field.defaultValue !== null) result.values[field.name] = field.defaultValue;
      else if (field.nullable === false) throw invalidInput(`${path}.${field.name}`, 'is required (the field is not nullable and has no default)');
    }
  }
  return result;
}

/** Validates a batch create: a non-empty array of at most MAX_BATCH_SIZE inputs, errors naming the index. */
export function validateBatchInput(object: ObjectSpec, inputs: unknown, path: string): ValidatedInput[] {
  if (!Array.isArray(inputs)) throw invalidInput(path, `must be an array of ${object.typeName} inputs`);
  if (inputs.length === 0) throw invalidInput(path, 'must hold at least one record');
  if (inputs.length > MAX_BATCH_SIZE) throw invalidInput(path, `must hold at most ${MAX_BATCH_SIZE} records (got ${inputs.length})`);
  const validated = inputs.map((input, index) => validateRecordInput(object, input, 'create', `${path}[${index}]`));
  const seen = new Map<string, number>();
  validated.forEach((input, index) => {
    if (!input.id) return;
    const first = seen.get(input.id);
    if (first !== undefined) throw invalidInput(`${path}[${index}].id`, `repeats the id of ${path}[${first}]`);
    seen.set(input.id, index);
  });
  return validated;
}

function toIso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return (value instanceof Date ? value : new Date(String(value))).toISOString();
}

function readJsonDocument(value: unknown): Record<string, FieldValue> {
  if (value === null || value === undefined) return {};
  // jsonb arrives parsed from pg; a text form (some drivers) is parsed here.
  return (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, FieldValue>;
}

/** A stored row as the API record, keys in a stable order: id, fields, createdAt, updatedAt, deletedAt. */
export function rowToRecord(object: ObjectSpec, row: RecordRow): RecordData {
  const record: RecordData = { id: String(row.id) };
  const document = readJsonDocument(row[jsonColumnOf(object)]);
  for (const field of object.fields) {
    if (!field.column) {
      // A record stored before the field existed reads as the field's default.
      const stored = document[field.name];
      record[field.name] = stored === undefined ? (field.defaultValue ?? null) : stored;
      continue;
    }
    const value = row[field.column];
    if (value === null || value === undefined) record[field.name] = null;
    else if (field.kind === 'datetime') record[field.name] = toIso(value);
    // Drivers may return numeric columns as strings; the API speaks numbers.
    else if (field.kind === 'integer' || field.kind === 'number') record[field.name] = Number(value);
    else record[field.name] = String(value);
  }
  record.createdAt = toIso(row.created_at);
  record.updatedAt = toIso(row.updated_at);
  record.deletedAt = toIso(row.deleted_at);
  return record;
}

/** JSON with object keys sorted: equal for equal values whatever their key order (jsonb reorders keys). */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${canonicalJson(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Whether two field values are the same value (deep, key order ignored). */
export function sameFieldValue(a: FieldValue | undefined, b: FieldValue | undefined): boolean {
  const left = a ?? null;
  const right = b ?? null;
  if (left === right) return true;
  if (typeof left !== 'object' || typeof right !== 'object' || left === null || right === null) return false;
  return canonicalJson(left) === canonicalJson(right);
}

/**
 * Names of the fields whose value differs between two states of a record, in field order. The object's fields
 * and deletedAt count; id, createdAt and updatedAt do not (updatedAt changes with every write).
 */
export function changedFields(object: ObjectSpec, before: RecordData, after: RecordData): string[] {
  const names = [...object.fields.map((field) => field.name), 'deletedAt'];
  return names.filter((name) => !sameFieldValue(before[name], after[name]));
}

/** The column values for the given field values (the storage shape of an input); custom fields are left out. */
export function valuesToColumns(object: ObjectSpec, values: FieldValues): Record<string, FieldValue> {
  const columns: Record<string, FieldValue> = {};
  for (const field of object.fields) if (field.column && field.name in values) columns[field.column] = values[field.name];
  return columns;
}

/** The values of the fields kept in the record's jsonb document (its custom fields). */
export function valuesToDocument(object: ObjectSpec, values: FieldValues): Record<string, FieldValue> {
  const document: Record<string, FieldValue> = {};
  for (const field of object.fields) if (!field.column && field.name in values) document[field.name] = values[field.name];
  return document;
}
