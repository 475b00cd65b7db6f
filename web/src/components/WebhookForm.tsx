import { useState, type FormEvent } from 'react';
import { ApiError, errorMessage } from '../api.ts';
import { operationsFromRows, rowsFromOperations, type OperationRow } from '../operations.ts';
import { OperationsEditor } from './OperationsEditor.tsx';
import { ErrorNotice, TextField } from './ui.tsx';

export interface WebhookFormValues {
  targetUrl: string;
  description: string;
  operations: string[];
}

type FieldErrors = Partial<Record<'targetUrl' | 'description' | 'operations' | 'form', string>>;

/** Puts the server's message next to the field it names (e.g. `targetUrl`, `operations[1]`, `update.targetUrl`). */
function fieldErrorsFrom(error: unknown): FieldErrors {
  if (error instanceof ApiError && error.field) {
    const field = error.field.replace(/^(input|update)\./, '');
    for (const name of ['targetUrl', 'description', 'operations'] as const) {
      if (field === name || field.startsWith(`${name}[`) || field.startsWith(`${name}.`)) return { [name]: error.message };
    }
  }
  return { form: errorMessage(error) };
}

export function WebhookForm({ initial, submitLabel, onSubmit, onCancel }: {
  initial: WebhookFormValues;
  submitLabel: string;
  onSubmit: (values: WebhookFormValues) => Promise<void>;
  onCancel?: () => void;
}) {
  const [targetUrl, setTargetUrl] = useState(initial.targetUrl);
  const [description, setDescription] = useState(initial.description);
  const [rows, setRows] = useState<OperationRow[]>(() => rowsFromOperations(initial.operations));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (targetUrl.trim() === '') {
      setErrors({ targetUrl: 'Enter the endpoint URL, e.g. https://example.com/webhooks' });
      return;
    }
    setSaving(true);
    setSaved(false);
    setErrors({});
    try {
      await onSubmit({ targetUrl: targetUrl.trim(), description: description.trim(), operations: operationsFromRows(rows) });
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
        onChange={setTargetUrl}
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
        onChange={setDescription}
        placeholder="What this endpoint does (optional)"
        error={errors.description}
        multiline
      />
      <OperationsEditor rows={rows} onChange={setRows} error={errors.operations} />
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
