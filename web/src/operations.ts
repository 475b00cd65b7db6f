/** Operations as the form edits them: rows of Object × Action, joined as `{object}.{action}`. */

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

let nextKey = 1;

export function newRow(object = '*', action = '*'): OperationRow {
  return { key: nextKey++, object, action };
}

export function rowsFromOperations(operations: readonly string[]): OperationRow[] {
  if (operations.length === 0) return [newRow()];
  return operations.map((operation) => {
    const dot = operation.indexOf('.');
    return dot < 0 ? newRow(operation, '') : newRow(operation.slice(0, dot), operation.slice(dot + 1));
  });
}

/** The rows as operation strings, without duplicates, in the order given. */
export function operationsFromRows(rows: readonly OperationRow[]): string[] {
  return [...new Set(rows.map((row) => `${row.object}.${row.action}`))];
}

export function describeOperation(operation: string): string {
  const [object = '', action = ''] = operation.split('.');
  const objectLabel = OBJECT_OPTIONS.find((option) => option.value === object)?.label ?? object;
  const actionLabel = ACTION_OPTIONS.find((option) => option.value === action)?.label ?? action;
  if (object === '*' && action === '*') return 'All events';
  return `${objectLabel} · ${actionLabel}`;
}
