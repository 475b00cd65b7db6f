import { sql, type RawBuilder } from 'kysely';
import type { FieldType } from '../domain/field-types.ts';
import type { FilterCondition, RecordFilter } from '../domain/record-filter.ts';
import type { OrderDirection, OrderTerm } from '../domain/record-order.ts';
import { jsonColumnOf, type FieldSpec, type ObjectSpec } from '../domain/records.ts';
import { customFieldExpression } from './record-indexes.ts';

/**
 * Twenty's list filter and orderBy, compiled to SQL from their parsed trees (src/domain/record-filter.ts and
 * record-order.ts). Every value is a parameter; field names come from the object's spec (validated camelCase),
 * written as the same expressions the custom fields' indexes are built on, so filters and orders use them.
 */

/** How a field reads in SQL: its expression and the SQL type its operands are cast to. */
interface SqlField {
  expression: RawBuilder<unknown>;
  operandType: 'text' | 'numeric' | 'boolean' | 'timestamptz' | 'uuid';
  /** A custom DATE kept as `YYYY-MM-DD` text: instants are compared as days. */
  isDocumentDate: boolean;
}

const SYSTEM_COLUMNS: Record<string, { column: string; operandType: SqlField['operandType'] }> = {
  id: { column: 'id', operandType: 'uuid' },
  createdAt: { column: 'created_at', operandType: 'timestamptz' },
  updatedAt: { column: 'updated_at', operandType: 'timestamptz' },
  deletedAt: { column: 'deleted_at', operandType: 'timestamptz' },
};

function columnOperandType(field: FieldSpec): SqlField['operandType'] {
  switch (field.kind) {
    case 'integer':
    case 'number':
      return 'numeric';
    case 'datetime':
      return 'timestamptz';
    case 'reference':
      return 'uuid';
    default:
      return 'text';
  }
}

function documentOperandType(type: FieldType): SqlField['operandType'] {
  if (type === 'NUMBER' || type === 'CURRENCY') return 'numeric';
  if (type === 'BOOLEAN') return 'boolean';
  return 'text';
}

function sqlField(object: ObjectSpec, name: string, subField?: 'amountMicros' | 'currencyCode'): SqlField {
  const system = SYSTEM_COLUMNS[name];
  if (system) return { expression: sql.ref(system.column), operandType: system.operandType, isDocumentDate: false };
  const field = object.fields.find((candidate) => candidate.name === name);
  if (!field) throw new Error(`record query: ${object.nameSingular} has no field ${name}`);
  if (field.column) return { expression: sql.ref(field.column), operandType: columnOperandType(field), isDocumentDate: false };
  if (field.type === 'CURRENCY' && subField === 'currencyCode') {
    return { expression: sql`(${sql.ref(jsonColumnOf(object))} -> ${sql.lit(field.name)} ->> 'currencyCode')`, operandType: 'text', isDocumentDate: false };
  }
  return { expression: customFieldExpression(object, field), operandType: documentOperandType(field.type), isDocumentDate: field.type === 'DATE' };
}

/** Whether the field's value is absent: a custom field reads its document key as text (JSON null is NULL too). */
function nullTest(object: ObjectSpec, name: string, subField: string | undefined, isNull: boolean): RawBuilder<unknown> {
  const field = object.fields.find((candidate) => candidate.name === name);
  const expression =
    field && !field.column && !subField ? sql`(${sql.ref(jsonColumnOf(object))} ->> ${sql.lit(field.name)})` : sqlField(object, name, subField as never).expression;
  return isNull ? sql`${expression} IS NULL` : sql`${expression} IS NOT NULL`;
}

const OPERATORS = { eq: '=', neq: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** The day of an instant, and whether the instant is that day's midnight (UTC). */
function dayOf(instant: string): { day: string; midnight: boolean } {
  return { day: instant.slice(0, 10), midnight: instant.endsWith('T00:00:00.000Z') };
}

/**
 * A custom DATE (a day, i.e. its midnight UTC) against an instant: the same truth as comparing the instants,
 * written on the day text so the field's index serves it.
 */
function compareDocumentDate(expression: RawBuilder<unknown>, operator: keyof typeof OPERATORS, instant: string): RawBuilder<unknown> {
  const { day, midnight } = dayOf(instant);
  if (midnight) return sql`${expression} ${sql.raw(OPERATORS[operator])} ${day}::text`;
  // Between two midnights: no day equals it; later days are after it, this day and earlier ones before it.
  switch (operator) {
    case 'eq':
      return sql`(CASE WHEN ${expression} IS NULL THEN NULL ELSE false END)`;
    case 'neq':
      return sql`(CASE WHEN ${expression} IS NULL THEN NULL ELSE true END)`;
    case 'gt':
    case 'gte':
      return sql`${expression} > ${day}::text`;
    case 'lt':
    case 'lte':
      return sql`${expression} <= ${day}::text`;
  }
}

function compileCondition(object: ObjectSpec, condition: FilterCondition): RawBuilder<unknown> {
  switch (condition.kind) {
    case 'is':
      return nullTest(object, condition.field, condition.subField, condition.isNull);
    case 'containsAny': {
      const document = sql.ref(jsonColumnOf(object));
      return sql`(${document} -> ${sql.lit(condition.field)}) ?| ${condition.values}::text[]`;
    }
    case 'like': {
      const { expression } = sqlField(object, condition.field, condition.subField);
      return condition.caseInsensitive ? sql`${expression} ILIKE ${condition.pattern}` : sql`${expression} LIKE ${condition.pattern}`;
    }
    case 'in': {
      const target = sqlField(object, condition.field, condition.subField);
      if (target.isDocumentDate) {
        const days = condition.values.map((value) => dayOf(String(value))).filter((value) => value.midnight).map((value) => value.day);
        return sql`${target.expression} = ANY(${days}::text[])`;
      }
      return sql`${target.expression} = ANY(${condition.values}::${sql.raw(target.operandType)}[])`;
    }
    case 'compare': {
      const target = sqlField(object, condition.field, condition.subField);
      if (target.isDocumentDate) return compareDocumentDate(target.expression, condition.operator, String(condition.value));
      const operator = sql.raw(OPERATORS[condition.operator]);
      const ordered = condition.operator !== 'eq' && condition.operator !== 'neq';
      // Text orders by code point, as the in-memory evaluator of webhook filters does.
      const collate = ordered && target.operandType === 'text' ? sql` COLLATE "C"` : sql``;
      return sql`${target.expression}${collate} ${operator} ${condition.value}::${sql.raw(target.operandType)}`;
    }
  }
}

/** The filter as a SQL condition (three-valued like the evaluator: a comparison with NULL is unknown). */
export function compileRecordFilter(object: ObjectSpec, filter: RecordFilter): RawBuilder<unknown> {
  switch (filter.kind) {
    case 'and':
      return filter.filters.length === 0 ? sql`true` : sql`(${sql.join(filter.filters.map((part) => compileRecordFilter(object, part)), sql` AND `)})`;
    case 'or':
      return filter.filters.length === 0 ? sql`false` : sql`(${sql.join(filter.filters.map((part) => compileRecordFilter(object, part)), sql` OR `)})`;
    case 'not':
      return sql`(NOT ${compileRecordFilter(object, filter.filter)})`;
    default:
      return sql`(${compileCondition(object, filter)})`;
  }
}

const DIRECTION_SQL: Record<OrderDirection, string> = {
  AscNullsFirst: 'ASC NULLS FIRST',
  AscNullsLast: 'ASC NULLS LAST',
  DescNullsFirst: 'DESC NULLS FIRST',
  DescNullsLast: 'DESC NULLS LAST',
};

/** ORDER BY the terms, then (created_at, id) so the order is total. */
export function compileOrderBy(object: ObjectSpec, terms: readonly OrderTerm[]): RawBuilder<unknown> {
  const parts = terms.map((term) => sql`${sqlField(object, term.field).expression} ${sql.raw(DIRECTION_SQL[term.direction])}`);
  return sql.join([...parts, sql`created_at`, sql`id`]);
}

/** A sort key of a listed record: its value of each term (a CURRENCY by its amountMicros). */
export type SortValue = string | number | boolean | null;

export function sortValuesOf(object: ObjectSpec, terms: readonly OrderTerm[], record: Record<string, unknown>): SortValue[] {
  return terms.map((term) => {
    const value = record[term.field];
    if (term.fieldType === 'CURRENCY') return ((value as { amountMicros?: number | null } | null)?.amountMicros ?? null) as SortValue;
    return (value ?? null) as SortValue;
  });
}

/**
 * Rows strictly after a position in the order of `terms` then (created_at, id): the keyset condition, with NULLs
 * placed as each term's direction says.
 */
export function compileAfter(
  object: ObjectSpec,
  terms: readonly OrderTerm[],
  values: readonly SortValue[],
  position: { createdAt: string; id: string },
): RawBuilder<unknown> {
  const fields = terms.map((term) => sqlField(object, term.field));
  const operand = (index: number) => sql`${values[index]}::${sql.raw(fields[index]!.operandType)}`;
  const equal = (index: number) =>
    values[index] === null ? sql`${fields[index]!.expression} IS NULL` : sql`${fields[index]!.expression} = ${operand(index)}`;
  const after = (index: number): RawBuilder<unknown> => {
    const { expression } = fields[index]!;
    const direction = terms[index]!.direction;
    const ascending = direction.startsWith('Asc');
    const nullsFirst = direction.endsWith('NullsFirst');
    if (values[index] === null) return nullsFirst ? sql`${expression} IS NOT NULL` : sql`false`;
    const beyond = ascending ? sql`${expression} > ${operand(index)}` : sql`${expression} < ${operand(index)}`;
    return nullsFirst ? beyond : sql`(${beyond} OR ${expression} IS NULL)`;
  };
  const tie = sql`(created_at, id) > (${position.createdAt}::timestamptz, ${position.id}::uuid)`;
  const alternatives: RawBuilder<unknown>[] = [];
  for (let index = 0; index <= terms.length; index++) {
    const prefix = Array.from({ length: index }, (_, earlier) => equal(earlier));
    const last = index === terms.length ? tie : after(index);
    alternatives.push(sql`(${sql.join([...prefix, last], sql` AND `)})`);
  }
  return sql`(${sql.join(alternatives, sql` OR `)})`;
}
