import { describe, expect, it } from 'vitest';
import { STANDARD_SCREEN_MODEL } from '../../src/domain/webhook-screen.ts';
import { parseRecordFilter } from '../../src/domain/record-filter.ts';
import { builderToFilter, conditionProblem, filterToBuilder, newCondition, parseFilterText, type BuilderFilter } from '../../web/src/filter.ts';
import type { FieldType } from '../../web/src/queries.ts';

// The builder's field types as the UI learns them from the metadata API (opportunity's, with the system fields).
const opportunityFields = STANDARD_SCREEN_MODEL.objects.get('opportunity')!;
const types = new Map<string, FieldType>(opportunityFields.map((field) => [field.name, field.type as FieldType]));
const strip = (builder: BuilderFilter | null) => builder && { ...builder, conditions: builder.conditions.map(({ key: _key, ...rest }) => rest) };

describe("the webhook form's filter builder", () => {
  it('writes filters the server accepts, typed by field, and reads them back the same', () => {
    const builder: BuilderFilter = {
      combinator: 'or',
      conditions: [
        newCondition('amount', 'gt', '10000'),
        newCondition('name', 'ilike', '%acme%'),
        newCondition('stage', 'in', 'WON, LOST'),
        newCondition('closeDate', 'lt', '2025-01-01T00:00:00Z'),
        newCondition('companyId', 'isNull'),
      ],
    };
    const filter = builderToFilter(builder, types);
    expect(filter).toEqual({
      or: [
        { amount: { gt: 10000 } },
        { name: { ilike: '%acme%' } },
        { stage: { in: ['WON', 'LOST'] } },
        { closeDate: { lt: '2025-01-01T00:00:00Z' } },
        { companyId: { is: 'NULL' } },
      ],
    });
    expect(() => parseRecordFilter(filter, opportunityFields)).not.toThrow();
    expect(strip(filterToBuilder(filter, types))).toEqual(strip(builder));
    // One condition is written bare; none is no filter at all.
    expect(builderToFilter({ combinator: 'and', conditions: [newCondition('amount', 'gte', '5')] }, types)).toEqual({ amount: { gte: 5 } });
    expect(builderToFilter({ combinator: 'and', conditions: [] }, types)).toBeNull();
    expect(filterToBuilder(null, types)).toEqual({ combinator: 'and', conditions: [] });
  });

  it('leaves to the JSON view what it cannot show exactly', () => {
    for (const filter of [
      { not: { amount: { gt: 1 } } },
      { and: [{ or: [{ amount: { gt: 1 } }] }] },
      { amount: { gt: 1, lt: 5 } },
      { amount: { gt: '1' } },
      { name: { eq: 5 } },
      { stage: { in: ['A,B'] } },
      { nope: { eq: 'x' } },
      { amount: { gt: 1 }, name: { eq: 'x' } },
      { and: [] },
      [1],
    ]) {
      expect(filterToBuilder(filter, types), JSON.stringify(filter)).toBeNull();
    }
  });

  it('names what is missing in a condition, and what is wrong in JSON text', () => {
    expect(conditionProblem(newCondition('', 'eq', 'x'), undefined)).toMatch(/field/);
    expect(conditionProblem(newCondition('amount', 'gt', 'lots'), 'NUMBER')).toMatch(/number/);
    expect(conditionProblem(newCondition('stage', 'in', ' , '), 'TEXT')).toMatch(/commas/);
    expect(conditionProblem(newCondition('stage', 'isNull'), 'TEXT')).toBeUndefined();
    expect(parseFilterText('')).toEqual({ filter: null });
    expect(parseFilterText('{ "amount": ')).toHaveProperty('problem', expect.stringMatching(/^Not valid JSON/));
    expect(parseFilterText('[1]')).toHaveProperty('problem', expect.stringMatching(/JSON object/));
  });
});
