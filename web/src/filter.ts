/**
 * The webhook form's filter builder: simple conditions (field, comparator, value) joined with and/or, and their
 * record-filter JSON (the records API's list filter grammar). A filter the builder cannot show exactly — nesting,
 * `not`, several operators on a field, CURRENCY sub-fields, a value of another type than its field — is edited as
 * JSON only; filterToBuilder answers null for it rather than showing something that would save differently.
 */
import type { FieldSummary, FieldType } from './queries.ts';

export type Comparator = 'eq' | 'neq' | 'in' | 'gt' | 'gte' | 'lt' | 'lte' | 'like' | 'ilike' | 'containsAny' | 'isNull' | 'notNull';

export const COMPARATOR_LABELS: Readonly<Record<Comparator, string>> = {
  eq: 'equals',
  neq: 'does not equal',
  in: 'is one of',
  gt: 'is greater than',
  gte: 'is at least',
  lt: 'is less than',
  lte: 'is at most',
  like: 'matches (like)',
  ilike: 'matches, any case (ilike)',
  containsAny: 'contains any of',
  isNull: 'is empty (NULL)',
  notNull: 'is not empty (NOT_NULL)',
};

const ORDERED: readonly Comparator[] = ['eq', 'neq', 'in', 'gt', 'gte', 'lt', 'lte', 'isNull', 'notNull'];
const EQUALITY: readonly Comparator[] = ['eq', 'neq', 'in', 'isNull', 'notNull'];

/** The comparators each field type accepts (as the server's filter grammar does). */
const COMPARATORS_BY_TYPE: Readonly<Record<FieldType, readonly Comparator[]>> = {
  TEXT: [...ORDERED.slice(0, 7), 'like', 'ilike', 'isNull', 'notNull'],
  NUMBER: ORDERED,
  DATE_TIME: ORDERED,
  DATE: ORDERED,
  BOOLEAN: ['eq', 'neq', 'isNull', 'notNull'],
  SELECT: EQUALITY,
  MULTI_SELECT: ['containsAny', 'isNull', 'notNull'],
  UUID: EQUALITY,
  RELATION: EQUALITY,
  RAW_JSON: ['isNull', 'notNull'],
  // Filtered through a sub-field (amountMicros, currencyCode): JSON view only.
  CURRENCY: [],
};

export function comparatorsFor(type: FieldType | undefined): readonly Comparator[] {
  return type ? COMPARATORS_BY_TYPE[type] : ORDERED;
}

/** Whether a comparator takes a list (comma-separated in the builder) or no value at all. */
export const takesList = (comparator: Comparator) => comparator === 'in' || comparator === 'containsAny';
export const takesNoValue = (comparator: Comparator) => comparator === 'isNull' || comparator === 'notNull';

export interface Condition {
  key: number;
  field: string;
  comparator: Comparator;
  /** As typed: a list is comma-separated. */
  value: string;
}

export interface BuilderFilter {
  combinator: 'and' | 'or';
  conditions: Condition[];
}

let nextKey = 1;

export function newCondition(field = '', comparator: Comparator = 'eq', value = ''): Condition {
  return { key: nextKey++, field, comparator, value };
}

export const EMPTY_BUILDER: BuilderFilter = { combinator: 'and', conditions: [] };

/** The fields every record has besides its own, which a filter may name too. */
export const SYSTEM_FIELDS: readonly FieldSummary[] = [
  { name: 'id', label: 'Id', type: 'UUID', options: null },
  { name: 'createdAt', label: 'Created at', type: 'DATE_TIME', options: null },
  { name: 'updatedAt', label: 'Updated at', type: 'DATE_TIME', options: null },
  { name: 'deletedAt', label: 'Deleted at', type: 'DATE_TIME', options: null },
];

type Scalar = string | number | boolean;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A typed value as the builder shows it, or undefined when it is not of the field's type (JSON view only). */
function scalarToText(value: unknown, type: FieldType): string | undefined {
  if (type === 'NUMBER') return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
  if (type === 'BOOLEAN') return typeof value === 'boolean' ? String(value) : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** The builder's text as the field's type; a number that does not parse stays text, for the server to name. */
function textToScalar(text: string, type: FieldType): Scalar {
  const trimmed = text.trim();
  if (type === 'NUMBER') {
    const number = Number(trimmed);
    return trimmed !== '' && Number.isFinite(number) ? number : text;
  }
  if (type === 'BOOLEAN') return trimmed === 'true' ? true : trimmed === 'false' ? false : text;
  return type === 'TEXT' ? text : trimmed;
}

function conditionFromEntry(entry: unknown, types: ReadonlyMap<string, FieldType>): Condition | null {
  if (!isPlainObject(entry)) return null;
  const keys = Object.keys(entry);
  if (keys.length !== 1) return null;
  const field = keys[0]!;
  const type = types.get(field);
  const operators = entry[field];
  if (!type || !isPlainObject(operators) || Object.keys(operators).length !== 1) return null;
  const operator = Object.keys(operators)[0]!;
  const operand = operators[operator];
  if (operator === 'is') {
    if (operand !== 'NULL' && operand !== 'NOT_NULL') return null;
    const comparator = operand === 'NULL' ? 'isNull' : 'notNull';
    return comparatorsFor(type).includes(comparator) ? newCondition(field, comparator) : null;
  }
  const comparator = operator as Comparator;
  if (takesNoValue(comparator) || !comparatorsFor(type).includes(comparator)) return null;
  if (takesList(comparator)) {
    if (!Array.isArray(operand) || operand.length === 0) return null;
    const texts = operand.map((value) => scalarToText(value, type));
    // A value with a comma, or one the builder would trim, cannot come back from a comma-separated list as it was.
    if (texts.some((text) => text === undefined || text.includes(',') || text.trim() !== text || text === '')) return null;
    return newCondition(field, comparator, texts.join(', '));
  }
  const text = scalarToText(operand, type);
  if (text === undefined || (type !== 'TEXT' && text.trim() !== text)) return null;
  return newCondition(field, comparator, text);
}

/**
 * The builder's form of a filter, or null when the builder cannot show it exactly. `types` holds the fields the
 * builder offers; a filter naming another field is JSON only.
 */
export function filterToBuilder(filter: unknown, types: ReadonlyMap<string, FieldType>): BuilderFilter | null {
  if (filter === null || filter === undefined) return { combinator: 'and', conditions: [] };
  if (!isPlainObject(filter)) return null;
  const keys = Object.keys(filter);
  if (keys.length === 0) return { combinator: 'and', conditions: [] };
  if (keys.length === 1 && (keys[0] === 'and' || keys[0] === 'or')) {
    const list = filter[keys[0]];
    if (!Array.isArray(list) || list.length === 0) return null;
    const conditions = list.map((entry) => conditionFromEntry(entry, types));
    return conditions.every((condition) => condition !== null) ? { combinator: keys[0], conditions: conditions as Condition[] } : null;
  }
  if (keys.length === 1 && keys[0] === 'not') return null;
  const single = keys.length === 1 ? conditionFromEntry(filter, types) : null;
  return single ? { combinator: 'and', conditions: [single] } : null;
}

function entryOf(condition: Condition, type: FieldType): Record<string, unknown> {
  if (takesNoValue(condition.comparator)) return { [condition.field]: { is: condition.comparator === 'isNull' ? 'NULL' : 'NOT_NULL' } };
  if (takesList(condition.comparator)) {
    const values = condition.value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map((part) => textToScalar(part, type));
    return { [condition.field]: { [condition.comparator]: values } };
  }
  return { [condition.field]: { [condition.comparator]: textToScalar(condition.value, type) } };
}

/** The record-filter JSON of the builder's conditions; null when there are none (every event is sent). */
export function builderToFilter(builder: BuilderFilter, types: ReadonlyMap<string, FieldType>): unknown {
  const entries = builder.conditions
    .filter((condition) => condition.field !== '')
    .map((condition) => entryOf(condition, types.get(condition.field) ?? 'TEXT'));
  if (entries.length === 0) return null;
  if (entries.length === 1) return entries[0];
  return { [builder.combinator]: entries };
}

/** What is wrong with a condition before it is sent (the server checks the rest and names the part). */
export function conditionProblem(condition: Condition, type: FieldType | undefined): string | undefined {
  if (condition.field === '') return 'Choose a field.';
  if (takesNoValue(condition.comparator)) return undefined;
  const parts = takesList(condition.comparator) ? condition.value.split(',').map((part) => part.trim()).filter(Boolean) : [condition.value.trim()];
  if (parts.length === 0 || parts.some((part) => part === '')) return takesList(condition.comparator) ? 'Enter one or more values, separated by commas.' : 'Enter a value.';
  if (type === 'NUMBER' && parts.some((part) => !Number.isFinite(Number(part)))) return 'Enter a number, e.g. 10000.';
  return undefined;
}

/** JSON text of a filter for the JSON view ('' for none). */
export function filterText(filter: unknown): string {
  return filter === null || filter === undefined ? '' : JSON.stringify(filter, null, 2);
}

/** The JSON view's text as a filter: `{ filter }`, or `{ problem }` when it is not JSON or not an object. */
export function parseFilterText(text: string): { filter: unknown } | { problem: string } {
  if (text.trim() === '') return { filter: null };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: `Not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (value !== null && !isPlainObject(value)) return { problem: 'A filter is a JSON object, e.g. { "city": { "eq": "Paris" } }, or empty for none.' };
  return { filter: value };
}
