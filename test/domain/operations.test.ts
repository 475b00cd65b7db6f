import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  EVENT_ACTIONS,
  EVENT_OBJECTS,
  matchCandidates,
  matchesOperation,
  operationProblem,
  validateOperations,
} from '../../src/domain/operations.ts';
import { SwitchboardError } from '../../src/domain/errors.ts';

function errorOf(run: () => unknown): SwitchboardError {
  try {
    run();
  } catch (error) {
    if (error instanceof SwitchboardError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('operation patterns', () => {
  it('accepts every known object and action, and wildcards on either side', () => {
    for (const object of [...EVENT_OBJECTS, '*']) {
      for (const action of [...EVENT_ACTIONS, '*']) expect(operationProblem(`${object}.${action}`)).toBeUndefined();
    }
  });

  it('refuses other shapes, naming what is wrong', () => {
    expect(operationProblem('person')).toMatch(/\{object\}\.\{action\}/);
    expect(operationProblem('person.created.now')).toMatch(/\{object\}\.\{action\}/);
    expect(operationProblem('')).toMatch(/\{object\}\.\{action\}/);
    expect(operationProblem('people.created')).toBe('object must be one of person, company, opportunity or *');
    expect(operationProblem('Person.created')).toMatch(/^object must be/);
    expect(operationProblem('person.exploded')).toBe('action must be one of created, updated, deleted, restored, destroyed or *');
    expect(operationProblem('person.')).toMatch(/^action must be/);
    expect(operationProblem('pers*.created')).toMatch(/^object must be/);
  });

  it('names the bad entry by its index', () => {
    const error = errorOf(() => validateOperations(['person.created', 'person.exploded']));
    expect(error.code).toBe('BAD_USER_INPUT');
    expect(error.field).toBe('operations[1]');
    expect(error.message).toBe(
      'operations[1]: "person.exploded" is not a valid operation: action must be one of created, updated, deleted, restored, destroyed or *',
    );
  });

  it('refuses an empty list and more than 50 entries; deduplicates in order', () => {
    expect(errorOf(() => validateOperations([])).message).toMatch(/^operations: must hold at least one/);
    expect(errorOf(() => validateOperations(Array(51).fill('*.*'))).message).toMatch(/at most 50/);
    expect(validateOperations(['person.*', '*.*', 'person.*', 'company.created'])).toEqual(['person.*', '*.*', 'company.created']);
  });
});

describe('matching', () => {
  it('lists the four candidates of an event', () => {
    expect(matchCandidates('person.updated')).toEqual(['person.updated', 'person.*', '*.updated', '*.*']);
  });

  it('matches exact, object wildcard, action wildcard and everything; nothing else', () => {
    expect(matchesOperation(['person.created'], 'person.created')).toBe(true);
    expect(matchesOperation(['person.*'], 'person.deleted')).toBe(true);
    expect(matchesOperation(['*.deleted'], 'company.deleted')).toBe(true);
    expect(matchesOperation(['*.*'], 'opportunity.restored')).toBe(true);
    expect(matchesOperation(['person.created', 'company.*', '*.updated'], 'person.deleted')).toBe(false);
    expect(matchesOperation([], 'person.deleted')).toBe(false);
  });

  it('agrees with a direct reading of the rule for every pattern and event', () => {
    const objects = fc.constantFrom(...EVENT_OBJECTS);
    const actions = fc.constantFrom(...EVENT_ACTIONS);
    const pattern = fc.tuple(fc.constantFrom(...EVENT_OBJECTS, '*'), fc.constantFrom(...EVENT_ACTIONS, '*'));
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 6 }), objects, actions, (patterns, object, action) => {
        const expected = patterns.some(([o, a]) => (o === '*' || o === object) && (a === '*' || a === action));
        expect(matchesOperation(patterns.map(([o, a]) => `${o}.${a}`), `${object}.${action}`)).toBe(expected);
      }),
    );
  });
});
