import { describe, expect, it } from 'vitest';
import { OPERATIONAL_OPERATIONS, validateOperations } from '../../src/domain/operations.ts';
import { describeOperation, operationsFromState, stateFromOperations, SWITCHBOARD_EVENTS } from '../../web/src/operations.ts';

const shown = (operations: string[]) => {
  const state = stateFromOperations(operations);
  return { rows: state.rows.map(({ object, action }) => `${object}|${action}`), switchboard: state.switchboard };
};

describe("the webhook form's events", () => {
  it('offers exactly the server’s Switchboard events, with their labels', () => {
    expect(SWITCHBOARD_EVENTS.map((event) => event.value)).toEqual([...OPERATIONAL_OPERATIONS]);
    expect(describeOperation('webhook.disabled')).toBe('Webhook disabled');
    expect(describeOperation('delivery.failed')).toBe('Delivery failed');
    expect(describeOperation('person.created')).toBe('Person · Created');
    expect(describeOperation('*.*')).toBe('All events');
  });

  it('shows Switchboard events as entries, not as object and action, and writes back what it read', () => {
    expect(shown(['webhook.disabled'])).toEqual({ rows: [], switchboard: ['webhook.disabled'] });
    expect(shown(['person.*', 'delivery.failed', 'company.created'])).toEqual({
      rows: ['person|*', 'company|created'],
      switchboard: ['delivery.failed'],
    });
    expect(shown([])).toEqual({ rows: ['*|*'], switchboard: [] });
    for (const operations of [['webhook.disabled', 'delivery.failed'], ['*.*', 'delivery.failed'], ['person.updated']]) {
      const written = operationsFromState(stateFromOperations(operations));
      expect(written).toEqual(operations);
      expect(validateOperations(written)).toEqual(operations);
    }
  });

  it('writes each operation once, Switchboard events last in a fixed order', () => {
    const state = stateFromOperations(['person.created', 'person.created']);
    expect(operationsFromState({ rows: state.rows, switchboard: ['delivery.failed', 'webhook.disabled'] })).toEqual([
      'person.created',
      'webhook.disabled',
      'delivery.failed',
    ]);
    expect(operationsFromState({ rows: [], switchboard: [] })).toEqual([]);
  });
});
