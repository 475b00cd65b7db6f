import { invalidInput } from './errors.ts';
import type { FieldDescriptor, FieldType } from './field-types.ts';
import { isUuid, parseIsoDateTime } from './records.ts';

/**
 * Twenty's list filter (contract §9): `{ field: { eq neq in gt gte lt lte like ilike is } }`, `and: [..]`, `or: [..]`,
 * `not: {..}`, with CURRENCY fields filtered through a sub-field (`amount: { amountMicros: { gt: 1 } }`).
 *
 * parseRecordFilter checks a caller's filter against the fields it may name and returns a typed tree; the records API
 * compiles that tree to SQL, webhooks test it in memory with evaluateRecordFilter. Both must agree, so the evaluator
 * follows SQL: a comparison with NULL is unknown, `not` of unknown is unknown, and only a true filter matches.
 */

/** How a condition's operands are compared (the field type decides it). */
export type FilterValueType = 'text' | 'number' | 'boolean' | 'instant' | 'uuid';
export type ComparisonOperator = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte';
/** A sub-field of a CURRENCY field (its composite parts). */
export type CurrencySubField = 'amountMicros' | 'currencyCode';

interface ConditionTarget {
  /** The field's API name: the key of the value in a record (and in a payload's `record`). */
  field: string;
  fieldType: FieldType;
  /** Set for CURRENCY fields: which part is compared. */
  subField?: CurrencySubField;
}

/**
 * `eq`..`lte`. Instants (DATE_TIME, DATE) carry the canonical ISO string of the instant (UTC, milliseconds); uuids are
 * lowercased; text compares in JavaScript string order (UTF-16 code units; SQL `COLLATE "C"` agrees outside
 * the supplementary planes).
 */
export interface ComparisonCondition extends ConditionTarget {
  kind: 'compare';
  operator: ComparisonOperator;
  valueType: FilterValueType;
  value: string | number | boolean;
}

/** `in: [..]`: equal to one of the values (an empty list matches nothing). Values are normalised as for `eq`. */
export interface InCondition extends ConditionTarget {
  kind: 'in';
  valueType: FilterValueType;
  values: Array<string | number | boolean>;
}

/** `like` / `ilike`: SQL LIKE, `%` any run, `_` one character, `\` escapes the next character. */
export interface LikeCondition extends ConditionTarget {
  kind: 'like';
  caseInsensitive: boolean;
  pattern: string;
}

/** `is: NULL` (`isNull: true`) or `is: NOT_NULL`. An absent key counts as NULL. */
export interface IsCondition extends ConditionTarget {
  kind: 'is';
  isNull: boolean;
}

/** MULTI_SELECT `containsAny: [..]`: the record's list holds at least one of the values (Twenty's name). */
export interface ContainsAnyCondition extends ConditionTarget {
  kind: 'containsAny';
  values: string[];
}

export type FilterCondition = ComparisonCondition | InCondition | LikeCondition | IsCondition | ContainsAnyCondition;

export interface AndFilter {
  kind: 'and';
  filters: RecordFilter[];
}
export interface OrFilter {
  kind: 'or';
  filters: RecordFilter[];
}
export interface NotFilter {
  kind: 'not';
  filter: RecordFilter;
}

/** The parsed filter. Several keys at one level, or several operators on one field, are joined with `and`. */
export type RecordFilter = AndFilter | OrFilter | NotFilter | FilterCondition;

export interface RecordFilterLimits {
  /** Deepest nesting of `and`/`or`/`not` and field objects (the top level is depth 1). */
  maxDepth: number;
  /** Most conditions (one per operator) in the whole filter. */
  maxConditions: number;
  /** Most values in one `in` or `containsAny` list. */
  maxListValues: number;
  /** Longest string value or LIKE pattern, in characters. */
  maxStringLength: number;
}

/** Bounds that keep a hostile filter cheap to parse and to evaluate on every event. */
export const DEFAULT_RECORD_FILTER_LIMITS: Readonly<RecordFilterLimits> = {
  maxDepth: 8,
  maxConditions: 100,
  maxListValues: 100,
  maxStringLength: 1_000,
};

/** The fields every record has besides its own (contract §3), for callers building a field list. */
export const SYSTEM_FIELD_DESCRIPTORS: readonly FieldDescriptor[] = [
  { name: 'id', type: 'UUID' },
  { name: 'createdAt', type: 'DATE_TIME' },
  { name: 'updatedAt', type: 'DATE_TIME' },
  { name: 'deletedAt', type: 'DATE_TIME' },
];

type OperatorName = ComparisonOperator | 'in' | 'like' | 'ilike' | 'is' | 'containsAny';

const COMPARISONS: readonly ComparisonOperator[] = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte'];
const EQUALITY: readonly OperatorName[] = ['eq', 'neq', 'in', 'is'];
const ORDERED: readonly OperatorName[] = [...COMPARISONS, 'in', 'is'];

/** The operators each field type accepts (Twenty's filter input types, limited to the contract's operators). */
const OPERATORS_BY_TYPE: Readonly<Record<FieldType, readonly OperatorName[]>> = {
  TEXT: [...ORDERED, 'like', 'ilike'],
  NUMBER: ORDERED,
  BOOLEAN: ['eq', 'neq', 'is'],
  DATE_TIME: ORDERED,
  DATE: ORDERED,
  SELECT: EQUALITY,
  MULTI_SELECT: ['containsAny', 'is'],
  CURRENCY: [],
  RAW_JSON: ['is'],
  UUID: EQUALITY,
  RELATION: EQUALITY,
};

const CURRENCY_SUB_FIELDS: Readonly<Record<CurrencySubField, FieldType>> = { amountMicros: 'NUMBER', currencyCode: 'TEXT' };

const VALUE_TYPES: Readonly<Record<FieldType, FilterValueType>> = {
  TEXT: 'text',
  NUMBER: 'number',
  BOOLEAN: 'boolean',
  DATE_TIME: 'instant',
  DATE: 'instant',
  SELECT: 'text',
  MULTI_SELECT: 'text',
  CURRENCY: 'number',
  RAW_JSON: 'text',
  UUID: 'uuid',
  RELATION: 'uuid',
};

const IS_VALUES = ['NULL', 'NOT_NULL'] as const;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value.length > 40 ? 'a string' : JSON.stringify(value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function joinAnd(filters: RecordFilter[]): RecordFilter {
  return filters.length === 1 ? filters[0] : { kind: 'and', filters };
}

/** A path segment: `.name` for identifiers, `["odd key"]` for anything else, so a path never misleads. */
function keyPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key.slice(0, 60))}]`;
}

class FilterParser {
  private conditions = 0;
  private readonly fields: ReadonlyMap<string, FieldDescriptor>;

  constructor(
    fields: readonly FieldDescriptor[],
    private readonly limits: RecordFilterLimits,
  ) {
    this.fields = new Map(fields.map((field) => [field.name, field]));
  }

  parseGroup(input: unknown, path: string, depth: number): RecordFilter {
    if (!isPlainObject(input)) throw invalidInput(path, `must be a filter object, not ${describe(input)}`);
    if (depth > this.limits.maxDepth) throw invalidInput(path, `nests too deep: at most ${this.limits.maxDepth} levels`);
    const parts: RecordFilter[] = [];
    for (const key of Object.keys(input)) {
      const value = input[key];
      const at = keyPath(path, key);
      if (key === 'and' || key === 'or') {
        if (!Array.isArray(value)) throw invalidInput(at, `must be a list of filter objects, not ${describe(value)}`);
        // Checked before reading the entries, so a huge list costs nothing.
        if (value.length > this.limits.maxConditions) {
          throw invalidInput(at, `must hold at most ${this.limits.maxConditions} filters (got ${value.length})`);
        }
        parts.push({ kind: key, filters: value.map((entry, index) => this.parseGroup(entry, `${at}[${index}]`, depth + 1)) });
      } else if (key === 'not') {
        parts.push({ kind: 'not', filter: this.parseGroup(value, at, depth + 1) });
      } else {
        parts.push(this.parseField(key, value, at, depth + 1));
      }
    }
    return parts.length === 0 ? { kind: 'and', filters: [] } : joinAnd(parts);
  }

  private parseField(name: string, input: unknown, path: string, depth: number): RecordFilter {
    const field = this.fields.get(name);
    if (!field) {
      const known = [...this.fields.keys()];
      const listed = known.length <= 30 ? `: one of ${known.join(', ')}` : '';
      throw invalidInput(path, `unknown field ${JSON.stringify(name.slice(0, 60))}; a filter names fields of the record${listed}, or and/or/not`);
    }
    if (depth > this.limits.maxDepth) throw invalidInput(path, `nests too deep: at most ${this.limits.maxDepth} levels`);
    if (!isPlainObject(input)) throw invalidInput(path, `must be an object of operators, e.g. { "eq": … }, not ${describe(input)}`);
    const keys = Object.keys(input);
    if (keys.length === 0) throw invalidInput(path, 'must give at least one operator');
    if (field.type === 'CURRENCY') {
      return joinAnd(
        keys.map((key) => {
          const subType = Object.hasOwn(CURRENCY_SUB_FIELDS, key) ? CURRENCY_SUB_FIELDS[key as CurrencySubField] : undefined;
          const at = keyPath(path, key);
          if (!subType) throw invalidInput(at, 'a CURRENCY field is filtered through amountMicros or currencyCode, e.g. { "amountMicros": { "gt": 1000000 } }');
          const operators = input[key];
          if (!isPlainObject(operators)) throw invalidInput(at, `must be an object of operators, not ${describe(operators)}`);
          const subKeys = Object.keys(operators);
          if (subKeys.length === 0) throw invalidInput(at, 'must give at least one operator');
          return joinAnd(
            subKeys.map((operator) =>
              this.parseCondition({ field: name, fieldType: 'CURRENCY', subField: key as CurrencySubField }, subType, field, operator, operators[operator], keyPath(at, operator)),
            ),
          );
        }),
      );
    }
    return joinAnd(keys.map((operator) => this.parseCondition({ field: name, fieldType: field.type }, field.type, field, operator, input[operator], keyPath(path, operator))));
  }

  private parseCondition(target: ConditionTarget, type: FieldType, field: FieldDescriptor, operator: string, value: unknown, path: string): FilterCondition {
    this.conditions += 1;
    if (this.conditions > this.limits.maxConditions) throw invalidInput(path, `the filter holds more than ${this.limits.maxConditions} conditions`);
    const allowed = OPERATORS_BY_TYPE[type];
    if (!(allowed as readonly string[]).includes(operator)) {
      const label = target.subField ? `${target.subField} of a CURRENCY field` : `a ${type} field`;
      throw invalidInput(path, `${JSON.stringify(operator.slice(0, 60))} is not an operator for ${label}; use one of ${allowed.join(', ')}`);
    }
    const valueType = target.subField ? VALUE_TYPES[type] : VALUE_TYPES[field.type];
    switch (operator as OperatorName) {
      case 'is': {
        if (!(IS_VALUES as readonly unknown[]).includes(value)) throw invalidInput(path, `must be "NULL" or "NOT_NULL", not ${describe(value)}`);
        return { ...target, kind: 'is', isNull: value === 'NULL' };
      }
      case 'like':
      case 'ilike': {
        if (typeof value !== 'string') throw invalidInput(path, `must be a LIKE pattern string (% any run, _ one character), not ${describe(value)}`);
        this.checkLength(value, path);
        const problem = likePatternProblem(value);
        if (problem) throw invalidInput(path, problem);
        return { ...target, kind: 'like', caseInsensitive: operator === 'ilike', pattern: value };
      }
      case 'in':
      case 'containsAny': {
        if (!Array.isArray(value)) throw invalidInput(path, `must be a list of values, not ${describe(value)}`);
        if (value.length > this.limits.maxListValues) throw invalidInput(path, `must hold at most ${this.limits.maxListValues} values (got ${value.length})`);
        const values = value.map((entry, index) => this.parseValue(type, field, entry, `${path}[${index}]`));
        return operator === 'in'
          ? { ...target, kind: 'in', valueType, values }
          : { ...target, kind: 'containsAny', values: values as string[] };
      }
      default:
        return { ...target, kind: 'compare', operator: operator as ComparisonOperator, valueType, value: this.parseValue(type, field, value, path) };
    }
  }

  private checkLength(value: string, path: string): void {
    if (value.length > this.limits.maxStringLength) throw invalidInput(path, `must be at most ${this.limits.maxStringLength} characters (got ${value.length})`);
  }

  /** One operand, checked against the type it is compared as and normalised (instants canonical, uuids lowercase). */
  private parseValue(type: FieldType, field: FieldDescriptor, value: unknown, path: string): string | number | boolean {
    if (value === null) throw invalidInput(path, 'must not be null; to test for a missing value use { "is": "NULL" }');
    switch (type) {
      case 'NUMBER':
        if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidInput(path, `must be a finite number, not ${describe(value)}`);
        return value;
      case 'BOOLEAN':
        if (typeof value !== 'boolean') throw invalidInput(path, `must be true or false, not ${describe(value)}`);
        return value;
      case 'DATE_TIME':
      case 'DATE': {
        const iso = typeof value === 'string' && value.length <= 64 ? parseIsoDateTime(value) : undefined;
        if (!iso) throw invalidInput(path, `must be an ISO 8601 date or date-time (e.g. 2024-03-04 or 2024-03-04T11:00:00Z), not ${describe(value)}`);
        return iso;
      }
      case 'UUID':
      case 'RELATION':
        if (!isUuid(value)) throw invalidInput(path, `must be a UUID, not ${describe(value)}`);
        return value.toLowerCase();
      case 'SELECT':
      case 'MULTI_SELECT': {
        if (typeof value !== 'string') throw invalidInput(path, `must be an option value string, not ${describe(value)}`);
        const options = field.options ?? [];
        if (!options.includes(value)) {
          throw invalidInput(path, `${describe(value)} is not an option of ${field.name}${options.length <= 30 ? `; options: ${options.join(', ')}` : ''}`);
        }
        return value;
      }
      default:
        if (typeof value !== 'string') throw invalidInput(path, `must be a string, not ${describe(value)}`);
        this.checkLength(value, path);
        return value;
    }
  }
}

/**
 * Checks `input` (a caller's JSON) against the fields it may name and returns the parsed filter.
 * Throws a BAD_USER_INPUT error whose field is the path of the bad part, e.g. `filter.and[1].amount.gt`.
 * Cost is bounded by `limits`: lists are measured before they are read, and parsing stops at the first excess.
 */
export function parseRecordFilter(
  input: unknown,
  fields: readonly FieldDescriptor[],
  limits: Partial<RecordFilterLimits> = {},
  path = 'filter',
): RecordFilter {
  return new FilterParser(fields, { ...DEFAULT_RECORD_FILTER_LIMITS, ...limits }).parseGroup(input, path, 1);
}

/** Why `pattern` is not a valid LIKE pattern, or undefined (SQL refuses a pattern ending in a lone escape). */
export function likePatternProblem(pattern: string): string | undefined {
  let escaped = false;
  for (const char of pattern) escaped = !escaped && char === '\\';
  return escaped ? 'must not end with the escape character \\ (write \\\\ for a literal backslash)' : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Evaluation

/** SQL's three values: true, false, or unknown (null). */
type Truth = boolean | null;

type RecordLike = Readonly<Record<string, unknown>>;

function fieldValue(record: RecordLike, condition: ConditionTarget): unknown {
  const value = Object.hasOwn(record, condition.field) ? record[condition.field] : null;
  if (!condition.subField) return value ?? null;
  if (!isPlainObject(value)) return null;
  return Object.hasOwn(value, condition.subField) ? (value[condition.subField] ?? null) : null;
}

/** A record's value as the condition's operand type, or null when it is NULL or not of that type (unknown in SQL). */
function operand(value: unknown, valueType: FilterValueType): string | number | boolean | null {
  if (value === null) return null;
  switch (valueType) {
    case 'number':
      if (typeof value === 'number') return Number.isFinite(value) ? value : null;
      // PostgreSQL numeric (e.g. amountMicros) may travel as a string.
      if (typeof value === 'string' && value.trim() !== '') {
        const parsed = Number(value);
        return Number.isFinite(parsed) ? parsed : null;
      }
      return null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'instant':
      return instantOf(value);
    case 'uuid':
      return typeof value === 'string' ? value.toLowerCase() : null;
    case 'text':
      return typeof value === 'string' ? value : null;
  }
}

function instantOf(value: unknown): number | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.getTime();
  if (typeof value !== 'string') return null;
  const iso = parseIsoDateTime(value);
  return iso === undefined ? null : Date.parse(iso);
}

/** The comparable form of a parsed operand (instants as epoch milliseconds). */
function expected(value: string | number | boolean, valueType: FilterValueType): string | number | boolean {
  return valueType === 'instant' ? Date.parse(value as string) : value;
}

function compare(actual: string | number | boolean, operator: ComparisonOperator, wanted: string | number | boolean): boolean {
  switch (operator) {
    case 'eq':
      return actual === wanted;
    case 'neq':
      return actual !== wanted;
    case 'gt':
      return actual > wanted;
    case 'gte':
      return actual >= wanted;
    case 'lt':
      return actual < wanted;
    case 'lte':
      return actual <= wanted;
  }
}

function evaluate(filter: RecordFilter, record: RecordLike): Truth {
  switch (filter.kind) {
    case 'and': {
      let result: Truth = true;
      for (const part of filter.filters) {
        const truth = evaluate(part, record);
        if (truth === false) return false;
        if (truth === null) result = null;
      }
      return result;
    }
    case 'or': {
      let result: Truth = false;
      for (const part of filter.filters) {
        const truth = evaluate(part, record);
        if (truth === true) return true;
        if (truth === null) result = null;
      }
      return result;
    }
    case 'not': {
      const truth = evaluate(filter.filter, record);
      return truth === null ? null : !truth;
    }
    case 'is': {
      const value = fieldValue(record, filter);
      return (value === null) === filter.isNull;
    }
    case 'compare': {
      const actual = operand(fieldValue(record, filter), filter.valueType);
      if (actual === null) return null;
      // A value of another type than the field's (a bad stored row) cannot be ordered against the operand.
      const wanted = expected(filter.value, filter.valueType);
      if (typeof actual !== typeof wanted) return null;
      return compare(actual, filter.operator, wanted);
    }
    case 'in': {
      const actual = operand(fieldValue(record, filter), filter.valueType);
      if (actual === null) return filter.values.length === 0 ? false : null;
      return filter.values.some((value) => expected(value, filter.valueType) === actual);
    }
    case 'like': {
      const actual = fieldValue(record, filter);
      if (typeof actual !== 'string') return null;
      return likeMatcher(filter)(actual);
    }
    case 'containsAny': {
      const actual = fieldValue(record, filter);
      if (!Array.isArray(actual)) return null;
      return actual.some((value) => filter.values.includes(value as string));
    }
  }
}

/** Whether `record` matches `filter`: only a true filter matches (false and unknown do not), as in a SQL WHERE. */
export function evaluateRecordFilter(filter: RecordFilter, record: RecordLike): boolean {
  return evaluate(filter, record) === true;
}

// ---------------------------------------------------------------------------------------------------------------
// LIKE

type Matcher = (text: string) => boolean;

const likeMatchers = new WeakMap<LikeCondition, Matcher>();

function likeMatcher(condition: LikeCondition): Matcher {
  let matcher = likeMatchers.get(condition);
  if (!matcher) {
    matcher = compileLike(condition.pattern, condition.caseInsensitive);
    likeMatchers.set(condition, matcher);
  }
  return matcher;
}

const REGEX_SYNTAX = /[.*+?^${}()|[\]\\/]/g;

/**
 * A LIKE matcher in linear-ish time whatever the pattern: the pattern is cut at `%` into segments of fixed width
 * (literals and `_`), each a quantifier-free regular expression, so no backtracking can blow up. The first segment
 * must match at the start, the last at the end, and each middle one is taken at its leftmost match, which is optimal.
 */
export function compileLike(pattern: string, caseInsensitive: boolean): Matcher {
  const segments: string[] = [''];
  let escaped = false;
  for (const char of pattern) {
    if (escaped) {
      segments[segments.length - 1] += char.replace(REGEX_SYNTAX, '\\$&');
      escaped = false;
    } else if (char === '\\') {
      escaped = true;
    } else if (char === '%') {
      segments.push('');
    } else if (char === '_') {
      segments[segments.length - 1] += '[^]';
    } else {
      segments[segments.length - 1] += char.replace(REGEX_SYNTAX, '\\$&');
    }
  }
  // `u`: `_` is one character (a code point), as in SQL; `i` folds case for ilike.
  const flags = caseInsensitive ? 'iu' : 'u';
  if (segments.length === 1) {
    const whole = new RegExp(`^(?:${segments[0]})$`, flags);
    return (text) => whole.test(text);
  }
  const first = new RegExp(segments[0], `${flags}y`);
  const middles = segments.slice(1, -1).filter((segment) => segment !== '').map((segment) => new RegExp(segment, `${flags}g`));
  const last = new RegExp(`(?:${segments[segments.length - 1]})$`, `${flags}g`);
  return (text) => {
    first.lastIndex = 0;
    const start = first.exec(text);
    if (!start) return false;
    let position = start[0].length;
    for (const middle of middles) {
      middle.lastIndex = position;
      const found = middle.exec(text);
      if (!found) return false;
      position = found.index + found[0].length;
    }
    last.lastIndex = position;
    return last.exec(text) !== null;
  };
}
