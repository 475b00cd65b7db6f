import { useId } from 'react';
import { CompactSelect } from './ui.tsx';
import { ACTION_OPTIONS, newRow, OBJECT_OPTIONS, SWITCHBOARD_EVENTS, type OperationRow, type OperationsState } from '../operations.ts';
import type { ObjectSummary } from '../queries.ts';

/**
 * Record events as rows of Object × Action, and Switchboard's own events as whole entries. Something always stays
 * chosen: the last row can be removed only while a Switchboard event is checked.
 */
export function OperationsEditor({ value, onChange, error, objects }: {
  value: OperationsState;
  onChange: (value: OperationsState) => void;
  error?: string;
  /** The workspace's objects, custom ones included; the standard ones are offered until they have loaded. */
  objects: readonly ObjectSummary[] | undefined;
}) {
  const legendId = useId();
  const { rows, switchboard } = value;
  const objectOptions = objects
    ? [OBJECT_OPTIONS[0]!, ...objects.filter((object) => object.isActive).map((object) => ({ value: object.nameSingular, label: object.labelSingular }))]
    : OBJECT_OPTIONS;
  const errorId = `${legendId}-error`;
  const setRows = (next: OperationRow[]) => onChange({ rows: next, switchboard });
  const update = (key: number, patch: Partial<OperationRow>) => setRows(rows.map((row) => (row.key === key ? { ...row, ...patch } : row)));
  const toggle = (name: string, on: boolean) => {
    const next = on ? [...switchboard, name] : switchboard.filter((other) => other !== name);
    // Unchecking the last entry while no row is left brings back a row, so the webhook keeps an event.
    onChange({ rows: next.length === 0 && rows.length === 0 ? [newRow()] : rows, switchboard: next });
  };

  // Operations loaded from the server may name an object or action this form does not list.
  const withCurrent = (options: ReadonlyArray<{ value: string; label: string }>, current: string) =>
    options.some((option) => option.value === current) ? options : [...options, { value: current, label: current || '(none)' }];

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
              onClick={() => setRows(rows.filter((other) => other.key !== row.key))}
              disabled={rows.length === 1 && switchboard.length === 0}
              aria-label={`Remove event row ${index + 1}`}
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
      <button type="button" className="button button-small" onClick={() => setRows([...rows, newRow()])}>
        + Add event
      </button>
      <fieldset className="switchboard-events" aria-describedby={`${legendId}-own-hint`}>
        <legend>Switchboard events</legend>
        <p className="hint" id={`${legendId}-own-hint`}>
          Sent by Switchboard itself, e.g. to a pager. Only checking them here subscribes: “All” and <code>*</code> never include them.
        </p>
        {SWITCHBOARD_EVENTS.map((event) => (
          <div key={event.value} className="radio-option">
            <input
              type="checkbox"
              id={`${legendId}-${event.value}`}
              name="switchboardEvents"
              value={event.value}
              checked={switchboard.includes(event.value)}
              onChange={(change) => toggle(event.value, change.target.checked)}
              aria-describedby={`${legendId}-${event.value}-hint`}
            />
            <label htmlFor={`${legendId}-${event.value}`}>
              {event.label} <code className="muted small">{event.value}</code>
            </label>
            <p className="hint" id={`${legendId}-${event.value}-hint`}>
              {event.hint}
            </p>
          </div>
        ))}
      </fieldset>
      {error && (
        <p className="field-error" id={errorId} role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
