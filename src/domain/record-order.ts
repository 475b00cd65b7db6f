import { invalidInput } from './errors.ts';
import type { FieldDescriptor, FieldType } from './field-types.ts';

/**
 * Twenty's list ordering: `orderBy: [{ field: AscNullsFirst | AscNullsLast | DescNullsFirst | DescNullsLast }]`,
 * earlier entries first. Lists always end with (createdAt, id), so every order is total and pages are stable.
 */
export const ORDER_DIRECTIONS = ['AscNullsFirst', 'AscNullsLast', 'DescNullsFirst', 'DescNullsLast'] as const;
export type OrderDirection = (typeof ORDER_DIRECTIONS)[number];

export interface OrderTerm {
  /** The field's API name. */
  field: string;
  fieldType: FieldType;
  direction: OrderDirection;
}

/** Most ordering terms one list takes. */
export const MAX_ORDER_TERMS = 8;

/** Types with no order of their own (lists, documents). A CURRENCY orders by its amountMicros. */
const UNORDERED: ReadonlySet<FieldType> = new Set(['MULTI_SELECT', 'RAW_JSON']);

/** Checks an orderBy against the fields it may name; errors name the bad entry, e.g. `orderBy[1].amount`. */
export function parseOrderBy(input: unknown, fields: readonly FieldDescriptor[], path = 'orderBy'): OrderTerm[] {
  if (input === undefined || input === null) return [];
  const entries = Array.isArray(input) ? input : [input];
  const terms: OrderTerm[] = [];
  entries.forEach((entry, index) => {
    const entryPath = `${path}[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw invalidInput(entryPath, 'must be an object { field: AscNullsFirst | AscNullsLast | DescNullsFirst | DescNullsLast }');
    }
    for (const [name, direction] of Object.entries(entry as Record<string, unknown>)) {
      if (direction === undefined || direction === null) continue;
      const field = fields.find((candidate) => candidate.name === name);
      if (!field) throw invalidInput(`${entryPath}.${name}`, `is not a field that lists can be ordered by (fields: ${fields.map((f) => f.name).join(', ')})`);
      if (UNORDERED.has(field.type)) throw invalidInput(`${entryPath}.${name}`, `a ${field.type} field has no order`);
      if (typeof direction !== 'string' || !(ORDER_DIRECTIONS as readonly string[]).includes(direction)) {
        throw invalidInput(`${entryPath}.${name}`, `must be one of ${ORDER_DIRECTIONS.join(', ')}, not ${JSON.stringify(direction)}`);
      }
      if (terms.some((term) => term.field === name)) throw invalidInput(`${entryPath}.${name}`, 'orders by a field already ordered by');
      terms.push({ field: name, fieldType: field.type, direction: direction as OrderDirection });
    }
  });
  if (terms.length > MAX_ORDER_TERMS) throw invalidInput(path, `must order by at most ${MAX_ORDER_TERMS} fields (got ${terms.length})`);
  return terms;
}
