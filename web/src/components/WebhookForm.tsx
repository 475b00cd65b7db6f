import { useEffect, useId, useState, type FormEvent } from 'react';
import { ApiError, errorMessage } from '../api.ts';
import { SYSTEM_FIELDS } from '../filter.ts';
import { useLoad } from '../hooks.ts';
import { operationsFromState, stateFromOperations, type OperationRow, type OperationsState } from '../operations.ts';
import { fetchObjects, type FieldSummary, type ObjectSummary, type WebhookOrdering, type WebhookSettings } from '../queries.ts';
import { conditionIndexOf, FilterEditor, filterOfState, initialFilterState, type FilterState } from './FilterEditor.tsx';
import { OperationsEditor } from './OperationsEditor.tsx';
import { ErrorNotice, Spinner, TextField } from './ui.tsx';

export type WebhookFormValues = WebhookSettings;

type ErrorName = 'targetUrl' | 'description' | 'operations' | 'filter' | 'fields' | 'ordering';
type FieldErrors = Partial<Record<ErrorName | 'form', string>> & { filterPath?: string };

const ERROR_NAMES: readonly ErrorName[] = ['targetUrl', 'description', 'operations', 'filter', 'fields', 'ordering'];

/** Puts the server's message next to the control it names (e.g. `targetUrl`, `operations[1]`, `update.filter.and[0].amount.gt`). */
function fieldErrorsFrom(error: unknown): FieldErrors {
  if (error instanceof ApiError && error.field) {
    const field = error.field.replace(/^(input|update)\./, '');
    for (const name of ERROR_NAMES) {
      if (field === name || field.startsWith(`${name}[`) || field.startsWith(`${name}.`)) {
        // A filter's path says which part is wrong; the message alone may not.
        const message = name === 'filter' && field !== 'filter' ? `${field}: ${error.message}` : error.message;
        return { [name]: message, filterPath: name === 'filter' ? field : undefined };
      }
    }
  }
  return { form: errorMessage(error) };
}

/** The objects the operations can match: every active one for `*`. */
function objectsOf(rows: readonly OperationRow[], objects: readonly ObjectSummary[]): ObjectSummary[] {
  const active = objects.filter((object) => object.isActive);
  if (rows.some((row) => row.object === '*')) return active;
  const names = new Set(rows.map((row) => row.object));
  return active.filter((object) => names.has(object.nameSingular));
}

/** Each field name once (objects sharing a name share its meaning in a filter), in the objects' order. */
function unionOfFields(objects: readonly ObjectSummary[]): FieldSummary[] {
  const byName = new Map<string, FieldSummary>();
  for (const object of objects) for (const field of object.fields) if (!byName.has(field.name)) byName.set(field.name, field);
  return [...byName.values()];
}

const ORDERINGS: ReadonlyArray<{ value: WebhookOrdering; label: string; hint: string }> = [
  { value: 'NONE', label: 'Fastest (no ordering)', hint: 'Deliveries go as soon as they can; a retried one may arrive after later changes of its record.' },
  {
    value: 'PER_RECORD',
    label: 'Per record, in commit order',
    hint: 'Each record’s deliveries arrive in the order the changes happened; a failing one holds back later ones of that record only.',
  },
];

/**
 * `onSubmit` may answer the settings as saved (the server normalises some): the form then shows them, says
 * "Saved", and stays mounted, so that word is announced where the user is.
 */
export function WebhookForm({ initial: given, submitLabel, onSubmit, onCancel }: {
  initial: WebhookFormValues;
  submitLabel: string;
  onSubmit: (values: WebhookFormValues) => Promise<WebhookFormValues | void>;
  onCancel?: () => void;
}) {
  const [initial, setInitial] = useState(given);
  const [targetUrl, setTargetUrl] = useState(initial.targetUrl);
  const [description, setDescription] = useState(initial.description);
  const [operations, setOperations] = useState<OperationsState>(() => stateFromOperations(initial.operations));
  const rows = operations.rows;
  const [filterState, setFilterState] = useState<FilterState | undefined>();
  const [fields, setFields] = useState<string[] | null>(initial.fields);
  const [ordering, setOrdering] = useState<WebhookOrdering>(initial.ordering);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  // "Saved" describes the form as it was saved: the user's next change takes it away.
  const edited =
    <T,>(set: (value: T) => void) =>
    (value: T) => {
      setSaved(false);
      set(value);
    };
  // The workspace's objects with their fields, custom ones included: the pickers' choices.
  const objects = useLoad(fetchObjects, []);
  const chosen = objects.data ? objectsOf(rows, objects.data) : [];
  const ownFields = unionOfFields(chosen);
  const filterFields = [...SYSTEM_FIELDS.filter((field) => !ownFields.some((own) => own.name === field.name)), ...ownFields];

  // The builder needs the fields' types to show a stored filter, so the filter's view is chosen once they are known
  // (or not to be had: then the JSON view, which needs none).
  useEffect(() => {
    if (filterState || objects.loading) return;
    setFilterState(initialFilterState(initial.filter, objects.data ? unionOfFields(objects.data).concat(SYSTEM_FIELDS) : []));
  }, [filterState, objects.loading, objects.data, initial.filter]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (targetUrl.trim() === '') {
      setErrors({ targetUrl: 'Enter the endpoint URL, e.g. https://example.com/webhooks' });
      return;
    }
    const filter = filterState ? filterOfState(filterState, filterFields) : { filter: initial.filter };
    if ('problem' in filter) {
      setErrors({ filter: filter.problem });
      return;
    }
    const operationList = operationsFromState(operations);
    if (operationList.length === 0) {
      setErrors({ operations: 'Choose at least one event: a row, or a Switchboard event.' });
      return;
    }
    setSaving(true);
    setSaved(false);
    setErrors({});
    try {
      const stored = await onSubmit({
        targetUrl: targetUrl.trim(),
        description: description.trim(),
        operations: operationList,
        filter: filter.filter,
        fields: fields && fields.length > 0 ? fields : null,
        ordering,
      });
      if (stored) {
        // What was saved, as the server keeps it; the filter's view is chosen again from it (see the effect above).
        setInitial(stored);
        setTargetUrl(stored.targetUrl);
        setDescription(stored.description);
        setOperations(stateFromOperations(stored.operations));
        setFilterState(undefined);
        setFields(stored.fields);
        setOrdering(stored.ordering);
      }
      setSaved(true);
    } catch (error) {
      setErrors(fieldErrorsFrom(error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="form" onSubmit={(event) => void submit(event)} noValidate>
      <TextField
        label="Endpoint URL"
        name="targetUrl"
        type="url"
        value={targetUrl}
        onChange={edited(setTargetUrl)}
        required
        placeholder="https://example.com/webhooks"
        hint="Switchboard sends a signed POST to this URL for every matching event."
        error={errors.targetUrl}
        autoComplete="off"
      />
      <TextField
        label="Description"
        name="description"
        value={description}
        onChange={edited(setDescription)}
        placeholder="What this endpoint does (optional)"
        error={errors.description}
        multiline
      />
      <OperationsEditor value={operations} onChange={edited(setOperations)} error={errors.operations} objects={objects.data} />
      {objects.error && <ErrorNotice message={`The objects’ fields could not be loaded (${objects.error}); the filter can still be edited as JSON.`} onRetry={() => void objects.reload()} />}
      {filterState ? (
        <FilterEditor
          state={filterState}
          onChange={edited(setFilterState)}
          fields={filterFields}
          error={errors.filter}
          errorIndex={errors.filter ? conditionIndexOf(errors.filterPath, filterState) : undefined}
        />
      ) : (
        <Spinner label="Loading fields…" />
      )}
      <ChangedFieldsPicker value={fields} onChange={edited(setFields)} options={ownFields} error={errors.fields} loading={objects.loading && !objects.data} />
      <OrderingPicker value={ordering} onChange={edited(setOrdering)} error={errors.ordering} />
      {errors.form && <ErrorNotice message={errors.form} />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={saving}>
          {saving ? 'Saving…' : submitLabel}
        </button>
        {onCancel && (
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
        )}
        <span role="status" className="muted">
          {saved && !saving ? 'Saved' : ''}
        </span>
      </div>
    </form>
  );
}

/** `fields`: for updated events, send only those changing one of the checked fields (none checked: any change). */
function ChangedFieldsPicker({ value, onChange, options, error, loading }: {
  value: string[] | null;
  onChange: (value: string[] | null) => void;
  options: readonly FieldSummary[];
  error?: string;
  loading: boolean;
}) {
  const id = useId();
  const checked = new Set(value ?? []);
  // Names saved earlier that the chosen objects no longer have stay visible, so they can be unchecked.
  const shown = [...options, ...[...checked].filter((name) => !options.some((field) => field.name === name)).map((name) => ({ name, label: name }))];
  const toggle = (name: string, on: boolean) => {
    const next = shown.map((field) => field.name).filter((other) => (other === name ? on : checked.has(other)));
    onChange(next.length > 0 ? next : null);
  };
  return (
    <fieldset className="field changed-fields" aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}>
      <legend>Changed fields</legend>
      <p className="hint" id={`${id}-hint`}>
        Only for <strong>updated</strong> events: send an update only when it changes one of the checked fields. Other events are not
        affected. None checked: every update is sent.
      </p>
      {loading ? (
        <Spinner label="Loading fields…" />
      ) : (
        <ul className="checkbox-grid">
          {shown.map((field) => (
            <li key={field.name}>
              <label>
                <input type="checkbox" name="fields" value={field.name} checked={checked.has(field.name)} onChange={(event) => toggle(field.name, event.target.checked)} />{' '}
                {field.label} <code className="muted small">{field.name}</code>
              </label>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p className="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

function OrderingPicker({ value, onChange, error }: { value: WebhookOrdering; onChange: (value: WebhookOrdering) => void; error?: string }) {
  const id = useId();
  return (
    <fieldset className="field ordering" aria-describedby={error ? `${id}-error` : undefined}>
      <legend>Delivery order</legend>
      {ORDERINGS.map((option) => (
        <div key={option.value} className="radio-option">
          <input
            type="radio"
            id={`${id}-${option.value}`}
            name="ordering"
            value={option.value}
            checked={value === option.value}
            onChange={() => onChange(option.value)}
            aria-describedby={`${id}-${option.value}-hint`}
          />
          <label htmlFor={`${id}-${option.value}`}>
            {option.label} <code className="muted small">{option.value}</code>
          </label>
          <p className="hint" id={`${id}-${option.value}-hint`}>
            {option.hint}
          </p>
        </div>
      ))}
      {error && (
        <p className="field-error" id={`${id}-error`} role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}
