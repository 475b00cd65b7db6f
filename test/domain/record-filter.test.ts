import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SwitchboardError } from '../../src/domain/errors.ts';
import type { FieldDescriptor } from '../../src/domain/field-types.ts';
import {
  SYSTEM_FIELD_DESCRIPTORS,
  compileLike,
  evaluateRecordFilter,
  parseRecordFilter,
  type RecordFilter,
} from '../../src/domain/record-filter.ts';

const FIELDS: FieldDescriptor[] = [
  ...SYSTEM_FIELD_DESCRIPTORS,
  { name: 'name', type: 'TEXT' },
  { name: 'employees', type: 'NUMBER' },
  { name: 'active', type: 'BOOLEAN' },
  { name: 'closeDate', type: 'DATE_TIME' },
  { name: 'birthday', type: 'DATE' },
  { name: 'stage', type: 'SELECT', options: ['NEW', 'WON', 'LOST'] },
  { name: 'tags', type: 'MULTI_SELECT', options: ['a', 'b', 'c'] },
  { name: 'amount', type: 'CURRENCY' },
  { name: 'data', type: 'RAW_JSON' },
  { name: 'ownerId', type: 'RELATION' },
];

function errorOf(run: () => unknown): SwitchboardError {
  try {
    run();
  } catch (error) {
    if (error instanceof SwitchboardError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

const parse = (input: unknown, limits = {}) => parseRecordFilter(input, FIELDS, limits);
const matches = (input: unknown, record: Record<string, unknown>) => evaluateRecordFilter(parse(input), record);

const RECORD = {
  id: '3F2504E0-4F89-11D3-9A0C-0305E82C3301',
  createdAt: '2024-03-04T11:00:00.000Z',
  updatedAt: '2024-03-04T11:00:00.000Z',
  deletedAt: null,
  name: 'Acme_Corp 100%',
  employees: 42,
  active: true,
  closeDate: '2024-06-01T12:00:00.000Z',
  birthday: '1990-05-17',
  stage: 'WON',
  tags: ['a', 'c'],
  amount: { amountMicros: 15_000_000_000, currencyCode: 'EUR' },
  data: { any: 'thing' },
  ownerId: null,
};

describe('parseRecordFilter', () => {
  it('parses conditions into a typed tree, joining siblings with and', () => {
    expect(parse({ employees: { gt: 10, lte: 100 }, stage: { in: ['WON'] } })).toEqual({
      kind: 'and',
      filters: [
        {
          kind: 'and',
          filters: [
            { kind: 'compare', field: 'employees', fieldType: 'NUMBER', operator: 'gt', valueType: 'number', value: 10 },
            { kind: 'compare', field: 'employees', fieldType: 'NUMBER', operator: 'lte', valueType: 'number', value: 100 },
          ],
        },
        { kind: 'in', field: 'stage', fieldType: 'SELECT', valueType: 'text', values: ['WON'] },
      ],
    });
    expect(parse({ amount: { amountMicros: { gte: 1 } } })).toEqual({
      kind: 'compare', field: 'amount', fieldType: 'CURRENCY', subField: 'amountMicros', operator: 'gte', valueType: 'number', value: 1,
    });
    expect(parse({ not: { name: { ilike: '%a%' } } })).toEqual({
      kind: 'not', filter: { kind: 'like', field: 'name', fieldType: 'TEXT', caseInsensitive: true, pattern: '%a%' },
    });
    expect(parse({})).toEqual({ kind: 'and', filters: [] });
  });

  it('normalises operands: instants canonical, uuids lowercase', () => {
    expect(parse({ closeDate: { gt: '2024-06-01T14:00:00+02:00' } })).toMatchObject({ value: '2024-06-01T12:00:00.000Z' });
    expect(parse({ birthday: { eq: '1990-05-17' } })).toMatchObject({ value: '1990-05-17T00:00:00.000Z' });
    expect(parse({ ownerId: { eq: 'AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA' } })).toMatchObject({ value: 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa' });
  });

  it('names the bad part with its path', () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [null, 'filter', /must be a filter object/],
      [[], 'filter', /must be a filter object, not an array/],
      [{ and: [{}, { amount: { amountMicros: { gt: 'x' } } }] }, 'filter.and[1].amount.amountMicros.gt', /finite number/],
      [{ and: [{}, { employees: { gt: '5' } }] }, 'filter.and[1].employees.gt', /finite number, not "5"/],
      [{ nope: { eq: 1 } }, 'filter.nope', /unknown field "nope"/],
      [{ 'we ird': { eq: 1 } }, 'filter["we ird"]', /unknown field/],
      [JSON.parse('{"__proto__": { "eq": 1 } }'), 'filter.__proto__', /unknown field/],
      [{ employees: { like: '1%' } }, 'filter.employees.like', /not an operator for a NUMBER field; use one of eq, neq, gt/],
      [{ stage: { gt: 'WON' } }, 'filter.stage.gt', /not an operator for a SELECT field/],
      [{ stage: { eq: 'MAYBE' } }, 'filter.stage.eq', /"MAYBE" is not an option of stage; options: NEW, WON, LOST/],
      [{ stage: { in: ['WON', 'X'] } }, 'filter.stage.in[1]', /not an option/],
      [{ tags: { containsAny: ['z'] } }, 'filter.tags.containsAny[0]', /not an option/],
      [{ active: { eq: 'true' } }, 'filter.active.eq', /true or false/],
      [{ closeDate: { gt: '2024-02-30' } }, 'filter.closeDate.gt', /ISO 8601/],
      [{ ownerId: { eq: 'not-a-uuid' } }, 'filter.ownerId.eq', /must be a UUID/],
      [{ name: { eq: null } }, 'filter.name.eq', /is": "NULL"/],
      [{ name: { is: 'null' } }, 'filter.name.is', /"NULL" or "NOT_NULL"/],
      [{ name: {} }, 'filter.name', /at least one operator/],
      [{ name: 'Acme' }, 'filter.name', /object of operators/],
      [{ name: { like: 'abc\\' } }, 'filter.name.like', /must not end with the escape character/],
      [{ amount: { gt: 5 } }, 'filter.amount.gt', /through amountMicros or currencyCode/],
      [{ amount: { amountMicros: { like: '5' } } }, 'filter.amount.amountMicros.like', /amountMicros of a CURRENCY field/],
      [{ data: { eq: 'x' } }, 'filter.data.eq', /RAW_JSON/],
      [{ or: {} }, 'filter.or', /list of filter objects/],
      [{ not: [] }, 'filter.not', /filter object/],
      [{ and: [{ or: [{ not: 3 }] }] }, 'filter.and[0].or[0].not', /filter object, not 3/],
    ];
    for (const [input, field, message] of cases) {
      const error = errorOf(() => parse(input));
      expect(error.code, JSON.stringify(input)).toBe('BAD_USER_INPUT');
      expect(error.field, JSON.stringify(input)).toBe(field);
      expect(error.message, JSON.stringify(input)).toMatch(message);
    }
    expect(errorOf(() => parseRecordFilter({ x: {} }, FIELDS, {}, 'input.filter')).field).toBe('input.filter.x');
  });

  it('bounds depth, size, lists and strings so a hostile filter is cheap', () => {
    let deep: unknown = { name: { eq: 'x' } };
    for (let level = 0; level < 20; level += 1) deep = { not: deep };
    expect(errorOf(() => parse(deep)).message).toMatch(/nests too deep: at most 8 levels/);
    expect(() => parse(deep, { maxDepth: 30 })).not.toThrow();

    const wide = { or: Array.from({ length: 200_000 }, () => ({ name: { eq: 'x' } })) };
    const started = performance.now();
    expect(errorOf(() => parse(wide)).message).toMatch(/at most 100 filters \(got 200000\)/);
    expect(performance.now() - started).toBeLessThan(50);

    const many = { or: Array.from({ length: 60 }, () => ({ name: { eq: 'x', neq: 'y' } })) };
    expect(errorOf(() => parse(many))).toMatchObject({ field: 'filter.or[50].name.eq' });
    expect(errorOf(() => parse({ name: { in: Array.from({ length: 101 }, () => 'x') } })).message).toMatch(/at most 100 values/);
    expect(errorOf(() => parse({ name: { eq: 'x'.repeat(1_001) } })).message).toMatch(/at most 1000 characters/);
    expect(errorOf(() => parse({ name: { like: '%'.repeat(1_001) } })).message).toMatch(/at most 1000 characters/);
  });
});

describe('evaluateRecordFilter', () => {
  it('compares each type', () => {
    expect(matches({ employees: { gt: 41, lt: 43 } }, RECORD)).toBe(true);
    expect(matches({ employees: { gte: 43 } }, RECORD)).toBe(false);
    expect(matches({ employees: { in: [1, 42] } }, RECORD)).toBe(true);
    expect(matches({ employees: { in: [] } }, RECORD)).toBe(false);
    expect(matches({ name: { eq: 'Acme_Corp 100%' } }, RECORD)).toBe(true);
    expect(matches({ name: { gt: 'Acme' } }, RECORD)).toBe(true);
    expect(matches({ active: { eq: true } }, RECORD)).toBe(true);
    expect(matches({ active: { neq: true } }, RECORD)).toBe(false);
    expect(matches({ stage: { neq: 'LOST' } }, RECORD)).toBe(true);
    expect(matches({ tags: { containsAny: ['b', 'c'] } }, RECORD)).toBe(true);
    expect(matches({ tags: { containsAny: ['b'] } }, RECORD)).toBe(false);
    expect(matches({ id: { eq: '3f2504e0-4f89-11d3-9a0c-0305e82c3301' } }, RECORD)).toBe(true);
    expect(matches({ data: { is: 'NOT_NULL' } }, RECORD)).toBe(true);
  });

  it('compares dates and date-times as instants, whatever their zone or precision', () => {
    expect(matches({ closeDate: { eq: '2024-06-01T14:00:00+02:00' } }, RECORD)).toBe(true);
    expect(matches({ closeDate: { gt: '2024-06-01T11:59:59.999Z' } }, RECORD)).toBe(true);
    expect(matches({ closeDate: { gt: '2024-06-01T12:00:00Z' } }, RECORD)).toBe(false);
    expect(matches({ closeDate: { lt: '2024-06-02' } }, { closeDate: '2024-06-01T23:00:00-02:00' })).toBe(false);
    expect(matches({ birthday: { gte: '1990-05-17', lt: '1990-05-18' } }, RECORD)).toBe(true);
    expect(matches({ createdAt: { lt: '2024-03-05' } }, RECORD)).toBe(true);
    expect(matches({ closeDate: { gt: '2000-01-01' } }, { closeDate: 'garbage' })).toBe(false);
  });

  it('filters currency through amountMicros and currencyCode', () => {
    expect(matches({ amount: { amountMicros: { gt: 10_000_000_000 } } }, RECORD)).toBe(true);
    expect(matches({ amount: { amountMicros: { gt: 10_000_000_000 }, currencyCode: { eq: 'USD' } } }, RECORD)).toBe(false);
    // PostgreSQL numeric may arrive as a string.
    expect(matches({ amount: { amountMicros: { gt: 10 } } }, { amount: { amountMicros: '11', currencyCode: 'EUR' } })).toBe(true);
    expect(matches({ amount: { amountMicros: { is: 'NULL' } } }, { amount: null })).toBe(true);
  });

  it('follows SQL for NULL: comparisons are unknown, not of unknown is unknown, is tests it', () => {
    const empty = { name: null, employees: null };
    expect(matches({ employees: { neq: 5 } }, empty)).toBe(false);
    expect(matches({ not: { employees: { eq: 5 } } }, empty)).toBe(false);
    expect(matches({ not: { employees: { eq: 5 } } }, { employees: 6 })).toBe(true);
    expect(matches({ or: [{ employees: { eq: 5 } }, { name: { is: 'NULL' } }] }, empty)).toBe(true);
    expect(matches({ and: [{ employees: { eq: 5 } }, { name: { is: 'NULL' } }] }, empty)).toBe(false);
    expect(matches({ not: { and: [{ employees: { eq: 5 } }, { name: { is: 'NOT_NULL' } }] } }, empty)).toBe(true);
    expect(matches({ employees: { is: 'NULL' } }, {})).toBe(true);
    expect(matches({ employees: { in: [5] } }, {})).toBe(false);
    expect(matches({ not: { employees: { in: [] } } }, {})).toBe(true);
    expect(matches({ or: [] }, RECORD)).toBe(false);
    expect(matches({ and: [] }, RECORD)).toBe(true);
    expect(matches({}, {})).toBe(true);
  });

  it('matches like and ilike with % and _ wildcards and backslash escapes', () => {
    expect(matches({ name: { like: 'Acme%' } }, RECORD)).toBe(true);
    expect(matches({ name: { like: 'acme%' } }, RECORD)).toBe(false);
    expect(matches({ name: { ilike: 'acme%' } }, RECORD)).toBe(true);
    expect(matches({ name: { like: 'Acme_Corp ___\\%' } }, RECORD)).toBe(true);
    expect(matches({ name: { like: 'Acme\\_Corp%' } }, RECORD)).toBe(true);
    expect(matches({ name: { like: 'Acme\\_Corp' } }, RECORD)).toBe(false);
    expect(matches({ name: { like: '%Corp%' } }, RECORD)).toBe(true);
    expect(matches({ name: { like: '%' } }, { name: '' })).toBe(true);
    expect(matches({ name: { like: '_' } }, { name: '😀' })).toBe(true);
    expect(matches({ name: { like: '%.*%' } }, { name: 'a.*b' })).toBe(true);
    expect(matches({ name: { like: '%.*%' } }, { name: 'ab' })).toBe(false);
    expect(matches({ name: { like: '%' } }, { name: null })).toBe(false);
  });

  it('keeps a hostile LIKE pattern cheap on a long text', () => {
    const text = 'a'.repeat(200_000);
    const pattern = `${'%a'.repeat(400)}%b`;
    const started = performance.now();
    expect(compileLike(pattern, false)(text)).toBe(false);
    expect(compileLike('%' + 'a'.repeat(500) + 'b', false)(text)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

/** LIKE as a backtracking regular expression: slow, but obviously right, for short strings. */
function referenceLike(pattern: string, text: string, caseInsensitive: boolean): boolean {
  let source = '';
  let escaped = false;
  for (const char of pattern) {
    if (escaped) source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else if (char === '%') source += '[^]*';
    else if (char === '_') source += '[^]';
    else if (char !== '\\') source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    escaped = !escaped && char === '\\';
  }
  return new RegExp(`^${source}$`, caseInsensitive ? 'iu' : 'u').test(text);
}

const PROPERTY_FIELDS: FieldDescriptor[] = [
  { name: 'n', type: 'NUMBER' },
  { name: 't', type: 'TEXT' },
];

const arbitraryCondition: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ n: fc.oneof(
    fc.record({ eq: fc.integer({ min: -3, max: 3 }) }),
    fc.record({ gt: fc.integer({ min: -3, max: 3 }) }),
    fc.record({ in: fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 3 }) }),
    fc.record({ is: fc.constantFrom('NULL', 'NOT_NULL') }),
  ) }),
  fc.record({ t: fc.oneof(
    fc.record({ like: fc.stringMatching(/^[ab%_]{0,4}$/) }),
    fc.record({ neq: fc.constantFrom('a', 'b') }),
  ) }),
);

const arbitraryFilter: fc.Arbitrary<unknown> = fc.letrec<{ filter: unknown }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    arbitraryCondition,
    fc.record({ and: fc.array(tie('filter'), { maxLength: 3 }) }),
    fc.record({ or: fc.array(tie('filter'), { maxLength: 3 }) }),
    fc.record({ not: tie('filter') }),
  ),
})).filter;

const arbitraryRecord = fc.record({
  n: fc.option(fc.integer({ min: -3, max: 3 })),
  t: fc.option(fc.stringMatching(/^[ab]{0,4}$/)),
});

/** Three-valued truth of a filter in the simplest possible terms, for comparison with the evaluator. */
function truth(filter: RecordFilter, record: Record<string, unknown>): boolean | null {
  switch (filter.kind) {
    case 'and': {
      const parts = filter.filters.map((part) => truth(part, record));
      return parts.includes(false) ? false : parts.includes(null) ? null : true;
    }
    case 'or': {
      const parts = filter.filters.map((part) => truth(part, record));
      return parts.includes(true) ? true : parts.includes(null) ? null : false;
    }
    case 'not': {
      const inner = truth(filter.filter, record);
      return inner === null ? null : !inner;
    }
    default:
      return evaluateRecordFilter(filter, record) ? true : evaluateRecordFilter({ kind: 'not', filter }, record) ? false : null;
  }
}

describe('properties', () => {
  it('any JSON either parses or is refused with an input error naming a path under filter', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (input) => {
        try {
          parseRecordFilter(input, FIELDS);
        } catch (error) {
          expect(error).toBeInstanceOf(SwitchboardError);
          expect((error as SwitchboardError).code).toBe('BAD_USER_INPUT');
          expect((error as SwitchboardError).field).toMatch(/^filter/);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('and, or and not follow three-valued logic; a filter and its negation never both match', () => {
    fc.assert(
      fc.property(arbitraryFilter, arbitraryRecord, (input, record) => {
        const filter = parseRecordFilter(input, PROPERTY_FIELDS, { maxDepth: 50, maxConditions: 1_000 });
        const matched = evaluateRecordFilter(filter, record);
        expect(matched).toBe(truth(filter, record) === true);
        expect(matched && evaluateRecordFilter({ kind: 'not', filter }, record)).toBe(false);
        expect(evaluateRecordFilter({ kind: 'not', filter: { kind: 'not', filter } }, record)).toBe(matched);
      }),
      { numRuns: 1_000 },
    );
  });

  it('like agrees with a backtracking regular expression', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[aAb%_\\.*]{0,8}$/).filter((pattern) => !/(^|[^\\])(\\\\)*\\$/.test(pattern)),
        fc.stringMatching(/^[aAb.*%_\\]{0,10}$/),
        fc.boolean(),
        (pattern, text, caseInsensitive) => {
          expect(compileLike(pattern, caseInsensitive)(text)).toBe(referenceLike(pattern, text, caseInsensitive));
        },
      ),
      { numRuns: 3_000 },
    );
  });
});
