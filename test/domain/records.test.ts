import { describe, expect, it } from 'vitest';
import type { SwitchboardError } from '../../src/domain/errors.ts';
import {
  changedFields,
  LONG_TEXT_MAX,
  MAX_BATCH_SIZE,
  OBJECTS,
  parseIsoDateTime,
  referencesTo,
  rowToRecord,
  SHORT_TEXT_MAX,
  validateBatchInput,
  validateFieldValue,
  validateRecordInput,
} from '../../src/domain/records.ts';

const { person, company, opportunity } = OBJECTS;
const ID = '6ba7b810-9dad-41d1-80b4-00c04fd430c8';

function refusal(run: () => unknown): SwitchboardError {
  try {
    run();
  } catch (error) {
    return error as SwitchboardError;
  }
  throw new Error('expected the input to be refused');
}

describe('validateRecordInput', () => {
  it('accepts every field type and returns stored forms', () => {
    expect(validateRecordInput(person, { firstName: 'Ada', email: 'ada@example.com', companyId: ID.toUpperCase(), city: null }, 'create', 'data')).toEqual({
      values: { firstName: 'Ada', email: 'ada@example.com', companyId: ID, city: null },
    });
    expect(validateRecordInput(company, { employees: 0, address: 'x'.repeat(LONG_TEXT_MAX) }, 'update', 'data').values.employees).toBe(0);
    expect(validateRecordInput(opportunity, { amount: -12.5, closeDate: '2024-03-04' }, 'create', 'data').values).toEqual({
      amount: -12.5,
      closeDate: '2024-03-04T00:00:00.000Z',
    });
    expect(validateRecordInput(opportunity, { closeDate: new Date('2024-03-04T11:00:00Z') }, 'create', 'data').values.closeDate).toBe(
      '2024-03-04T11:00:00.000Z',
    );
    expect(validateRecordInput(person, { id: ID }, 'create', 'data')).toEqual({ id: ID, values: {} });
  });

  it.each([
    [person, { firstName: 42 }, 'data.firstName', /string/],
    [person, { lastName: 'x'.repeat(SHORT_TEXT_MAX + 1) }, 'data.lastName', /at most 1000 characters/],
    [person, { city: 'a\u0000b' }, 'data.city', /NUL/],
    [person, { email: 'not-an-email' }, 'data.email', /must be an email address/],
    [person, { email: 'a@b' }, 'data.email', /email/],
    [person, { companyId: 'abc' }, 'data.companyId', /UUID of a company/],
    [company, { employees: -1 }, 'data.employees', /whole number/],
    [company, { employees: 1.5 }, 'data.employees', /whole number/],
    [company, { employees: '3' }, 'data.employees', /whole number/],
    [company, { employees: 2 ** 31 }, 'data.employees', /whole number/],
    [company, { address: 'x'.repeat(LONG_TEXT_MAX + 1) }, 'data.address', /at most/],
    [opportunity, { amount: Number.POSITIVE_INFINITY }, 'data.amount', /finite number/],
    [opportunity, { amount: '12' }, 'data.amount', /finite number/],
    [opportunity, { closeDate: '2024-02-30' }, 'data.closeDate', /ISO 8601/],
    [opportunity, { closeDate: 'tomorrow' }, 'data.closeDate', /ISO 8601/],
    [opportunity, { closeDate: 1709550000000 }, 'data.closeDate', /ISO 8601/],
    [opportunity, { pointOfContactId: 7 }, 'data.pointOfContactId', /UUID of a person/],
    [person, { nickname: 'x' }, 'data.nickname', /not a field of Person/],
    [person, { createdAt: '2024-01-01' }, 'data.createdAt', /set by the server/],
    [person, { id: 'nope' }, 'data.id', /UUID/],
  ] as const)('refuses %s input %j naming %s', (object, input, field, reason) => {
    const error = refusal(() => validateRecordInput(object, input, 'create', 'data'));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.field).toBe(field);
    expect(error.message).toMatch(new RegExp(`^${field.replace('.', '\\.')}: `));
    expect(error.message).toMatch(reason);
  });

  it('refuses an id in an update and a non-object input', () => {
    expect(refusal(() => validateRecordInput(person, { id: ID }, 'update', 'data')).field).toBe('data.id');
    expect(refusal(() => validateRecordInput(person, [], 'create', 'body')).field).toBe('body');
    expect(refusal(() => validateRecordInput(person, 'Ada', 'create', 'body')).field).toBe('body');
  });
});

describe('validateBatchInput', () => {
  it('names the index of the bad record', () => {
    const inputs = [{ firstName: 'a' }, { firstName: 'b' }, { firstName: 'c' }, { email: 'nope' }];
    expect(refusal(() => validateBatchInput(person, inputs, 'data')).field).toBe('data[3].email');
  });

  it('refuses empty, oversized and non-array batches and repeated ids', () => {
    expect(refusal(() => validateBatchInput(person, [], 'data')).field).toBe('data');
    expect(refusal(() => validateBatchInput(person, {}, 'data')).field).toBe('data');
    expect(refusal(() => validateBatchInput(person, Array.from({ length: MAX_BATCH_SIZE + 1 }, () => ({})), 'data')).message).toMatch(/at most/);
    expect(refusal(() => validateBatchInput(person, [{ id: ID }, {}, { id: ID }], 'data')).field).toBe('data[2].id');
  });
});

describe('parseIsoDateTime', () => {
  it('reads dates and date-times, zoneless as UTC, and refuses impossible ones', () => {
    expect(parseIsoDateTime('2024-03-04T11:00:00+02:00')).toBe('2024-03-04T09:00:00.000Z');
    expect(parseIsoDateTime('2024-03-04T11:00')).toBe('2024-03-04T11:00:00.000Z');
    expect(parseIsoDateTime('2024-02-29')).toBe('2024-02-29T00:00:00.000Z');
    expect(parseIsoDateTime('2023-02-29')).toBeUndefined();
    expect(parseIsoDateTime('2024-03-04T24:00:00Z')).toBeUndefined();
    expect(parseIsoDateTime('03/04/2024')).toBeUndefined();
  });
});

describe('records and diffs', () => {
  const row = {
    id: ID,
    workspace_id: 'w',
    name: 'Acme',
    amount: '12.5',
    stage: null,
    close_date: new Date('2024-03-04T00:00:00Z'),
    company_id: null,
    point_of_contact_id: null,
    created_at: new Date('2024-01-01T00:00:00Z'),
    updated_at: new Date('2024-01-02T00:00:00Z'),
    deleted_at: null,
  };

  it('turns a row into a camelCase record in field order, without the workspace', () => {
    const record = rowToRecord(opportunity, row);
    expect(Object.keys(record)).toEqual(['id', 'name', 'amount', 'stage', 'closeDate', 'companyId', 'pointOfContactId', 'createdAt', 'updatedAt', 'deletedAt']);
    expect(record).toMatchObject({ amount: 12.5, closeDate: '2024-03-04T00:00:00.000Z', deletedAt: null });
  });

  it('lists changed fields in field order, counting deletedAt but not updatedAt', () => {
    const before = rowToRecord(opportunity, row);
    const after = { ...before, stage: 'WON', name: 'Acme 2', updatedAt: '2025-01-01T00:00:00.000Z' };
    expect(changedFields(opportunity, before, after)).toEqual(['name', 'stage']);
    expect(changedFields(opportunity, before, { ...before, deletedAt: '2025-01-01T00:00:00.000Z' })).toEqual(['deletedAt']);
    expect(changedFields(opportunity, before, { ...before, updatedAt: 'later' })).toEqual([]);
  });

  it('knows which fields reference companies and people', () => {
    expect(referencesTo(Object.values(OBJECTS), 'company').map(({ object, field }) => `${object.nameSingular}.${field.name}`)).toEqual([
      'person.companyId',
      'opportunity.companyId',
    ]);
    expect(referencesTo(Object.values(OBJECTS), 'person').map(({ object, field }) => `${object.nameSingular}.${field.name}`)).toEqual(['opportunity.pointOfContactId']);
    expect(referencesTo(Object.values(OBJECTS), 'opportunity')).toEqual([]);
  });
});

describe('validateFieldValue on custom field kinds', () => {
  it('refuses text PostgreSQL cannot store exactly, in TEXT values and anywhere inside RAW_JSON', () => {
    const note = { name: 'note', kind: 'text', type: 'TEXT' } as const;
    const raw = { name: 'raw', kind: 'json', type: 'RAW_JSON' } as const;
    expect(refusal(() => validateFieldValue(note, 'a\ud800b', 'data.note'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'data.note' });
    expect(refusal(() => validateFieldValue(raw, { nested: ['ok', 'nul \u0000'] }, 'data.raw'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'data.raw' });
    expect(refusal(() => validateFieldValue(raw, { ['key \udc00']: 1 }, 'data.raw'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'data.raw' });
    expect(validateFieldValue(raw, { emoji: '\ud83d\ude00', list: [1, null] }, 'data.raw')).toEqual({ emoji: '\ud83d\ude00', list: [1, null] });
  });

  it('refuses DATE values outside years 0001 to 9999', () => {
    const due = { name: 'dueOn', kind: 'date', type: 'DATE' } as const;
    expect(refusal(() => validateFieldValue(due, '0000-12-31', 'data.dueOn'))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'data.dueOn' });
    expect(validateFieldValue(due, '0001-01-01', 'data.dueOn')).toBe('0001-01-01');
  });
});
