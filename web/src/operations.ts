/**
 * Operations as the form edits them: rows of Object × Action, joined as `{object}.{action}`, and Switchboard's own
 * events, which are whole names (no object or action to pick) that no wildcard matches.
 */

export interface OperationRow {
  key: number;
  object: string;
  action: string;
}

export const OBJECT_OPTIONS: ReadonlyArray<{ value: string; label: string }> = [
  { value: '*', label: 'All Objects' },
  { value: 'person', label: 'Person' },
  { value: 'company', label: 'Company' },
  { value: 'opportunity', label: 'Opportunity' },
];

export const ACTION_OPTIONS: ReadonlyArray<{ value: string; label: string }> = [
  { value: '*', label: 'All' },
  { value: 'created', label: 'Created' },
  { value: 'updated', label: 'Updated' },
  { value: 'deleted', label: 'Deleted' },
  { value: 'restored', label: 'Restored' },
  { value: 'destroyed', label: 'Destroyed' },
];

/** Switchboard's own events (the server's OPERATIONAL_OPERATIONS), matched only when named in full. */
export const SWITCHBOARD_EVENTS: ReadonlyArray<{ value: string; label: string; hint: string }> = [
  { value: 'webhook.disabled', label: 'Webhook disabled', hint: 'A webhook of this workspace was disabled (410, five days of failures, or by someone).' },
  { value: 'delivery.failed', label: 'Delivery failed', hint: 'A delivery ended FAILED after its last attempt.' },
];

export function isSwitchboardEvent(operation: string): boolean {
  return SWITCHBOARD_EVENTS.some((event) => event.value === operation);
}

let nextKey = 1;

export function newRow(object = '*', action = '*'): OperationRow {
  return { key: nextKey++, object, action };
}

/** What the form shows of a webhook's operations. */
export interface OperationsState {
  rows: OperationRow[];
  /** The Switchboard events chosen, by name. */
  switchboard: string[];
}

/**
 * Switchboard events become checked entries; everything else a row. A webhook of Switchboard events only has no
 * rows; one with neither (a new one) starts with All Objects × All.
 */
export function stateFromOperations(operations: readonly string[]): OperationsState {
  const switchboard = operations.filter(isSwitchboardEvent);
  const rows = operations.filter((operation) => !isSwitchboardEvent(operation)).map((operation) => {
    const dot = operation.indexOf('.');
    return dot < 0 ? newRow(operation, '') : newRow(operation.slice(0, dot), operation.slice(dot + 1));
  });
  return { rows: rows.length === 0 && switchboard.length === 0 ? [newRow()] : rows, switchboard };
}

/** The operation strings, without duplicates: the rows in their order, then the Switchboard events. */
export function operationsFromState(state: OperationsState): string[] {
  const switchboard = SWITCHBOARD_EVENTS.map((event) => event.value).filter((name) => state.switchboard.includes(name));
  return [...new Set([...state.rows.map((row) => `${row.object}.${row.action}`), ...switchboard])];
}

export function describeOperation(operation: string): string {
  const own = SWITCHBOARD_EVENTS.find((event) => event.value === operation);
  if (own) return own.label;
  const [object = '', action = ''] = operation.split('.');
  const objectLabel = OBJECT_OPTIONS.find((option) => option.value === object)?.label ?? object;
  const actionLabel = ACTION_OPTIONS.find((option) => option.value === action)?.label ?? action;
  if (object === '*' && action === '*') return 'All events';
  return `${objectLabel} · ${actionLabel}`;
}
