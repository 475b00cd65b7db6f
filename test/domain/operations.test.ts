import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  EVENT_ACTIONS,
  EVENT_OBJECTS,
  isOperationalOperation,
  matchCandidates,
  matchesOperation,
  operationProblem,
  OPERATIONAL_OPERATIONS,
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

describe("Switchboard's own events (webhook.disabled, delivery.failed)", () => {
  it('are valid operations, in any workspace, named in full', () => {
    expect(OPERATIONAL_OPERATIONS).toEqual(['webhook.disabled', 'delivery.failed']);
    expect(validateOperations(['person.*', 'webhook.disabled', 'delivery.failed'])).toEqual(['person.*', 'webhook.disabled', 'delivery.failed']);
    expect(validateOperations(['delivery.failed'], 'operations', ['invoice'])).toEqual(['delivery.failed']);
    expect(operationProblem('webhook.disabled', 'any')).toBeUndefined();
  });

  it('refuses wildcards and near names over them, saying they must be named in full', () => {
    for (const entry of ['webhook.*', 'delivery.*', '*.disabled', '*.failed', 'webhook.failed', 'person.failed', 'delivery.disabled']) {
      expect(operationProblem(entry), entry).toMatch(/Switchboard's own events are named in full \(webhook\.disabled, delivery\.failed\): no wildcard matches them$/);
    }
    expect(errorOf(() => validateOperations(['*.*', 'webhook.*'])).message).toBe(
      `operations[1]: "webhook.*" is not a valid operation: object must be one of person, company, opportunity or *; Switchboard's own events are named in full (webhook.disabled, delivery.failed): no wildcard matches them`,
    );
    // An unrelated mistake keeps its plain message.
    expect(operationProblem('person.exploded')).toBe('action must be one of created, updated, deleted, restored, destroyed or *');
  });

  it('are matched by their own name only, never by a wildcard', () => {
    expect(matchCandidates('webhook.disabled')).toEqual(['webhook.disabled']);
    expect(matchCandidates('delivery.failed')).toEqual(['delivery.failed']);
    for (const operation of OPERATIONAL_OPERATIONS) {
      expect(matchesOperation([operation], operation)).toBe(true);
      expect(matchesOperation(['*.*', '*.disabled', '*.failed', 'webhook.*', 'delivery.*', 'person.*'], operation)).toBe(false);
      expect(isOperationalOperation(operation)).toBe(true);
    }
    expect(matchesOperation(['webhook.disabled'], 'delivery.failed')).toBe(false);
    // And naming them changes nothing for record events.
    expect(matchesOperation(['webhook.disabled', 'delivery.failed'], 'person.created')).toBe(false);
    expect(isOperationalOperation('person.created')).toBe(false);
  });

  it('a custom object named like them keeps its wildcard, which still does not reach them', () => {
    expect(validateOperations(['delivery.*'], 'operations', ['delivery'])).toEqual(['delivery.*']);
    expect(matchesOperation(['delivery.*'], 'delivery.created')).toBe(true);
    expect(matchesOperation(['delivery.*'], 'delivery.failed')).toBe(false);
  });
});
