import { useId } from 'react';
import { CompactSelect } from './ui.tsx';
import { ACTION_OPTIONS, newRow, OBJECT_OPTIONS, type OperationRow } from '../operations.ts';
import type { ObjectSummary } from '../queries.ts';

/** Operations as rows of Object × Action; at least one row always remains. */
export function OperationsEditor({ rows, onChange, error, objects }: {
  rows: OperationRow[];
  onChange: (rows: OperationRow[]) => void;
  error?: string;
  /** The workspace's objects, custom ones included; the standard ones are offered until they have loaded. */
  objects: readonly ObjectSummary[] | undefined;
}) {
  const legendId = useId();
  const objectOptions = objects
    ? [OBJECT_OPTIONS[0]!, ...objects.filter((object) => object.isActive).map((object) => ({ value: object.nameSingular, label: object.labelSingular }))]
    : OBJECT_OPTIONS;
  const errorId = `${legendId}-error`;
  const update = (key: number, patch: Partial<OperationRow>) =>
    onChange(rows.map((row) => (row.key === key ? { ...row, ...patch } : row)));

  // Operations loaded from the server may name an object or action this form does not list.
  const withCurrent = (options: ReadonlyArray<{ value: string; label: string }>, value: string) =>
    options.some((option) => option.value === value) ? options : [...options, { value, label: value || '(none)' }];

  return (
    <fieldset className="field operations" aria-describedby={error ? errorId : undefined}>
      <legend id={legendId}>Events</legend>
      <p className="hint">Each row subscribes to one object and action. “All” matches every one.</p>
      <ul className="operation-rows">
        {rows.map((row, index) => (
          <li key={row.key} className="operation-row">
            <CompactSelect
              label={`Object ${index + 1}`}
              value={row.object}
              onChange={(object) => update(row.key, { object })}
              options={withCurrent(objectOptions, row.object)}
            />
            <CompactSelect
              label={`Action ${index + 1}`}
              value={row.action}
              onChange={(action) => update(row.key, { action })}
              options={withCurrent(ACTION_OPTIONS, row.action)}
            />
            <button
              type="button"
              className="button button-ghost"
              onClick={() => onChange(rows.filter((other) => other.key !== row.key))}
              disabled={rows.length === 1}
              aria-label={`Remove event row ${index + 1}`}
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
      <button type="button" className="button button-small" onClick={() => onChange([...rows, newRow()])}>
        + Add event
      </button>
      {error && (
        <p className="field-error" id={errorId} role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
