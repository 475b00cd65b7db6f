import { invalidInput } from './errors.ts';
import { requireStorableText } from './stored-text.ts';

/**
 * The record objects (people, companies, opportunities): their fields, how input for them is validated,
 * and how a stored row becomes the camelCase record that the API returns and events carry.
 */

export type ObjectName = 'person' | 'company' | 'opportunity';

/**
 * text: a string up to maxLength characters; email: an email address; integer: a non-negative 32-bit integer;
 * number: any finite number; datetime: an ISO 8601 date or date-time; reference: the id of a record of `references`.
 */
export type FieldKind = 'text' | 'email' | 'integer' | 'number' | 'datetime' | 'reference';

export interface FieldSpec {
  /** camelCase name in the API and in payloads. */
  name: string;
  /** snake_case column. */
  column: string;
  kind: FieldKind;
  /** For text and email: the most characters (UTF-16 code units) accepted. */
  maxLength?: number;
  /** For reference: the object whose id it holds. */
  references?: ObjectName;
}

export interface ObjectSpec {
  nameSingular: ObjectName;
  namePlural: string;
  /** Type name in GraphQL, e.g. `Person`. */
  typeName: string;
  /** Plural type-name form for batch mutations, e.g. `People` in createPeople. */
  typeNamePlural: string;
  table: 'people' | 'companies' | 'opportunities';
  fields: readonly FieldSpec[];
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

const text = (name: string, column: string, maxLength = SHORT_TEXT_MAX): FieldSpec => ({ name, column, kind: 'text', maxLength });

export const OBJECTS: Readonly<Record<ObjectName, ObjectSpec>> = {
  person: {
    nameSingular: 'person',
    namePlural: 'people',
    typeName: 'Person',
    typeNamePlural: 'People',
    table: 'people',
    fields: [
      text('firstName', 'first_name'),
      text('lastName', 'last_name'),
      { name: 'email', column: 'email', kind: 'email', maxLength: EMAIL_MAX },
      text('jobTitle', 'job_title'),
      text('phone', 'phone', 100),
      text('city', 'city'),
      { name: 'companyId', column: 'company_id', kind: 'reference', references: 'company' },
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
      { name: 'employees', column: 'employees', kind: 'integer' },
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
      { name: 'amount', column: 'amount', kind: 'number' },
      text('stage', 'stage', 100),
      { name: 'closeDate', column: 'close_date', kind: 'datetime' },
      { name: 'companyId', column: 'company_id', kind: 'reference', references: 'company' },
      { name: 'pointOfContactId', column: 'point_of_contact_id', kind: 'reference', references: 'person' },
    ],
  },
};

export const OBJECT_NAMES = Object.keys(OBJECTS) as ObjectName[];

/** Fields every record has besides its own, set by the server only. */
export const SYSTEM_FIELDS = ['id', 'createdAt', 'updatedAt', 'deletedAt'] as const;

/** A field value as the API and payloads carry it: timestamps are ISO strings. */
export type FieldValue = string | number | null;
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

/** Which fields may hold a reference to a record of `target`: (object, field) pairs, for destroy checks. */
export function referencesTo(target: ObjectName): Array<{ object: ObjectSpec; field: FieldSpec }> {
  return OBJECT_NAMES.flatMap((name) =>
    OBJECTS[name].fields.filter((field) => field.references === target).map((field) => ({ object: OBJECTS[name], field })),
  );
}

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

/** Validates one field value; returns it in stored form (datetimes as ISO strings, ids lowercased). */
export function validateFieldValue(field: FieldSpec, value: unknown, path: string): FieldValue {
  if (value === null) return null;
  switch (field.kind) {
    case 'text':
    case 'email': {
      if (typeof value !== 'string') throw invalidInput(path, `must be a string or null, not ${describe(value)}`);
      const maxLength = field.maxLength ?? SHORT_TEXT_MAX;
      if (value.length > maxLength) throw invalidInput(path, `must be at most ${maxLength} characters (got ${value.length})`);
      requireStorableText(value, path);
      if (field.kind === 'email' && !EMAIL_PATTERN.test(value)) throw invalidInput(path, `must be an email address, not ${describe(value)}`);
      return value;
    }
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > INTEGER_MAX) {
        throw invalidInput(path, `must be a whole number from 0 to ${INTEGER_MAX}, not ${describe(value)}`);
      }
      return value;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidInput(path, `must be a finite number, not ${describe(value)}`);
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
    case 'reference':
      if (!isUuid(value)) throw invalidInput(path, `must be the UUID of a ${field.references}, not ${describe(value)}`);
      return value.toLowerCase();
  }
}

/**
 * Validates a create (`mode: 'create'`, which may give an `id`) or update input for `object`.
 * Unknown and read-only fields are refused; every error names its field under `path` (e.g. `data.email`).
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

/** A stored row as the API record, keys in a stable order: id, fields, createdAt, updatedAt, deletedAt. */
export function rowToRecord(object: ObjectSpec, row: RecordRow): RecordData {
  const record: RecordData = { id: String(row.id) };
  for (const field of object.fields) {
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

/**
 * Names of the fields whose value differs between two states of a record, in field order. The object's fields
 * and deletedAt count; id, createdAt and updatedAt do not (updatedAt changes with every write).
 */
export function changedFields(object: ObjectSpec, before: RecordData, after: RecordData): string[] {
  const names = [...object.fields.map((field) => field.name), 'deletedAt'];
  return names.filter((name) => (before[name] ?? null) !== (after[name] ?? null));
}

/** The column values for the given field values (the storage shape of an input). */
export function valuesToColumns(object: ObjectSpec, values: FieldValues): Record<string, FieldValue> {
  const columns: Record<string, FieldValue> = {};
  for (const field of object.fields) if (field.name in values) columns[field.column] = values[field.name];
  return columns;
}
