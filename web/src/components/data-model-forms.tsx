import { useId, useState, type FormEvent } from 'react';
import { ApiError, errorMessage } from '../api.ts';
import {
  createField,
  FIELD_TYPE_LABELS,
  FIELD_TYPES,
  type DataField,
  type DataObject,
  type FieldOption,
  type FieldType,
  type JsonValue,
  type NewFieldInput,
  type FieldUpdate,
} from '../data-model-queries.ts';
import { CompactSelect, ErrorNotice, TextField } from './ui.tsx';

/** Errors shown next to the inputs they name; `form` for the rest. */
export type FieldErrors = Record<string, string | undefined>;

/**
 * Puts the server's message next to the input it names: `input.field.options[1].value` belongs to `options`,
 * `input.object.nameSingular` to `nameSingular`. Anything else is shown for the whole form.
 */
export function errorsFrom(error: unknown, inputs: readonly string[]): FieldErrors {
  if (error instanceof ApiError && error.field) {
    const path = error.field.replace(/^input\.(field|object|update)\.?/, '').replace(/^relationCreationPayload\.targetObjectMetadataId$/, 'target');
    const head = /^[A-Za-z]+/.exec(path)?.[0] ?? '';
    if (inputs.includes(head)) return { [head]: error.message };
  }
  return { form: errorMessage(error) };
}

const COLORS = ['gray', 'blue', 'green', 'red', 'orange', 'yellow', 'purple', 'pink', 'turquoise', 'sky'];

export function defaultOptions(): FieldOption[] {
  return [{ value: 'OPTION_1', label: 'Option 1', color: 'blue', position: 0 }];
}

/** The options of a SELECT or MULTI_SELECT field: value, label and colour per row, added, removed and reordered. */
export function OptionsEditor({ options, onChange, error }: { options: FieldOption[]; onChange: (options: FieldOption[]) => void; error?: string }) {
  const legendId = useId();
  const errorId = useId();
  const update = (next: FieldOption[]) => onChange(next.map((option, position) => ({ ...option, position })));
  const change = (index: number, patch: Partial<FieldOption>) => update(options.map((option, at) => (at === index ? { ...option, ...patch } : option)));
  const move = (index: number, by: number) => {
    const next = [...options];
    const [taken] = next.splice(index, 1);
    next.splice(index + by, 0, taken!);
    update(next);
  };
  const add = () => {
    let number = options.length + 1;
    while (options.some((option) => option.value === `OPTION_${number}`)) number += 1;
    update([...options, { value: `OPTION_${number}`, label: `Option ${number}`, color: COLORS[options.length % COLORS.length]!, position: options.length }]);
  };
  return (
    <fieldset className="field options-editor" aria-describedby={error ? errorId : undefined}>
      <legend id={legendId}>Options</legend>
      <p className="hint">Values are letters, digits and _ (e.g. PAID); records store the value, people see the label.</p>
      <ol className="option-rows">
        {options.map((option, index) => (
          <li key={index} className="option-row">
            <SmallInput label={`Option ${index + 1} value`} value={option.value} onChange={(value) => change(index, { value })} mono />
            <SmallInput label={`Option ${index + 1} label`} value={option.label} onChange={(label) => change(index, { label })} />
            <CompactSelect
              label={`Option ${index + 1} color`}
              value={option.color ?? 'gray'}
              onChange={(color) => change(index, { color })}
              options={COLORS.map((color) => ({ value: color, label: color }))}
            />
            <div className="option-actions">
              <button type="button" className="button button-small" onClick={() => move(index, -1)} disabled={index === 0} aria-label={`Move option ${index + 1} up`}>
                ↑
              </button>
              <button
                type="button"
                className="button button-small"
                onClick={() => move(index, 1)}
                disabled={index === options.length - 1}
                aria-label={`Move option ${index + 1} down`}
              >
                ↓
              </button>
              <button
                type="button"
                className="button button-small button-danger-ghost"
                onClick={() => update(options.filter((_, at) => at !== index))}
                disabled={options.length === 1}
                aria-label={`Remove option ${index + 1}`}
              >
                Remove
              </button>
            </div>
          </li>
        ))}
      </ol>
      <button type="button" className="button button-small add-option" onClick={add}>
        + Add option
      </button>
      {error && (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      )}
    </fieldset>
  );
}

function SmallInput({ label, value, onChange, mono }: { label: string; value: string; onChange: (value: string) => void; mono?: boolean }) {
  const id = useId();
  return (
    <div className="compact-field">
      <label htmlFor={id}>{label}</label>
      <input id={id} className={`input${mono ? ' mono' : ''}`} value={value} onChange={(event) => onChange(event.target.value)} autoComplete="off" />
    </div>
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Default values: typed in as text, read by the field's type.

/** Types whose default is written as JSON. */
const JSON_DEFAULTS: readonly FieldType[] = ['CURRENCY', 'RAW_JSON'];
/** Types that take no default (the server refuses one). */
export const NO_DEFAULT: readonly FieldType[] = ['UUID', 'RELATION'];

export function defaultText(type: FieldType, value: JsonValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (JSON_DEFAULTS.includes(type)) return JSON.stringify(value);
  if (type === 'MULTI_SELECT' && Array.isArray(value)) return value.join(', ');
  return String(value);
}

/** The default value a text means for a type (null: none), or an error message. */
export function parseDefault(type: FieldType, text: string): { value: JsonValue } | { error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { value: null };
  switch (type) {
    case 'NUMBER': {
      const number = Number(trimmed);
      return Number.isFinite(number) ? { value: number } : { error: 'Enter a number, e.g. 10 or 2.5' };
    }
    case 'BOOLEAN':
      return trimmed === 'true' || trimmed === 'false' ? { value: trimmed === 'true' } : { error: 'Choose true or false' };
    case 'MULTI_SELECT':
      return { value: trimmed.split(',').map((part) => part.trim()).filter(Boolean) };
    case 'CURRENCY':
    case 'RAW_JSON':
      try {
        return { value: JSON.parse(trimmed) as JsonValue };
      } catch {
        return { error: type === 'CURRENCY' ? 'Enter JSON, e.g. {"amountMicros": 0, "currencyCode": "EUR"}' : 'Enter valid JSON' };
      }
    default:
      return { value: text };
  }
}

const DEFAULT_HINTS: Partial<Record<FieldType, string>> = {
  TEXT: 'Given to new records that leave the field out. Empty: none.',
  NUMBER: 'A number. Empty: none.',
  DATE_TIME: 'ISO 8601, e.g. 2024-03-04T11:00:00Z. Empty: none.',
  DATE: 'YYYY-MM-DD. Empty: none.',
  MULTI_SELECT: 'Option values separated by commas, e.g. RED, BLUE. Empty: none.',
  CURRENCY: 'JSON, e.g. {"amountMicros": 0, "currencyCode": "EUR"}. Empty: none.',
  RAW_JSON: 'Any JSON. Empty: none.',
};

/** The default value input, shaped by the type: a choice for BOOLEAN and SELECT, text otherwise. */
export function DefaultValueInput({ type, value, onChange, options, error }: {
  type: FieldType;
  value: string;
  onChange: (value: string) => void;
  options: FieldOption[];
  error?: string;
}) {
  const id = useId();
  if (NO_DEFAULT.includes(type)) return null;
  if (type === 'BOOLEAN' || type === 'SELECT') {
    const choices = type === 'BOOLEAN' ? [{ value: 'true', label: 'True' }, { value: 'false', label: 'False' }] : options.map((option) => ({ value: option.value, label: option.label || option.value }));
    return (
      <div className="field">
        <label htmlFor={id}>Default value</label>
        <select id={id} className={`input${error ? ' input-invalid' : ''}`} value={value} onChange={(event) => onChange(event.target.value)} aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-error` : undefined}>
          <option value="">No default</option>
          {choices.map((choice) => (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          ))}
        </select>
        {error && (
          <p className="field-error" id={`${id}-error`}>
            {error}
          </p>
        )}
      </div>
    );
  }
  return <TextField label="Default value" value={value} onChange={onChange} hint={DEFAULT_HINTS[type]} error={error} name="defaultValue" />;
}

// ---------------------------------------------------------------------------------------------------------------
// Forms

const NEW_FIELD_INPUTS = ['type', 'name', 'label', 'description', 'isNullable', 'defaultValue', 'options', 'target', 'objectMetadataId'];

/** Adds a field of any type to an object; the server's errors appear next to the input they name. */
export function NewFieldForm({ object, objects, onCreated }: { object: DataObject; objects: DataObject[]; onCreated: (field: DataField) => Promise<void> }) {
  const [type, setType] = useState<FieldType>('TEXT');
  const [name, setName] = useState('');
  const [label, setLabel] = useState('');
  const [description, setDescription] = useState('');
  const [isNullable, setIsNullable] = useState(true);
  const [defaultValue, setDefaultValue] = useState('');
  const [options, setOptions] = useState<FieldOption[]>(defaultOptions);
  const targets = objects.filter((candidate) => candidate.isActive);
  const [target, setTarget] = useState(targets[0]?.id ?? '');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saving, setSaving] = useState(false);
  const nullableId = useId();
  const isSelect = type === 'SELECT' || type === 'MULTI_SELECT';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseDefault(type, defaultValue);
    if ('error' in parsed) {
      setErrors({ defaultValue: parsed.error });
      return;
    }
    const input: NewFieldInput = { objectMetadataId: object.id, type, name: name.trim(), label: label.trim(), description: description.trim() || null, isNullable };
    if (!NO_DEFAULT.includes(type) && parsed.value !== null) input.defaultValue = parsed.value;
    if (isSelect) input.options = options.map(({ value, label: optionLabel, color, position }) => ({ value, label: optionLabel, color, position }));
    if (type === 'RELATION') input.relationCreationPayload = { targetObjectMetadataId: target, type: 'MANY_TO_ONE' };
    setSaving(true);
    setErrors({});
    try {
      const field = await createField(input);
      setName('');
      setLabel('');
      setDescription('');
      setDefaultValue('');
      setIsNullable(true);
      setOptions(defaultOptions());
      await onCreated(field);
    } catch (error) {
      setErrors(errorsFrom(error, NEW_FIELD_INPUTS));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="form" onSubmit={(event) => void submit(event)} noValidate aria-label={`Add a field to ${object.labelSingular}`}>
      <div className="field">
        <CompactSelect
          label="Type"
          value={type}
          onChange={(value) => {
            setType(value as FieldType);
            setDefaultValue('');
            setErrors({});
          }}
          options={FIELD_TYPES.map((value) => ({ value, label: `${FIELD_TYPE_LABELS[value]} (${value})` }))}
        />
        {errors.type && <p className="field-error">{errors.type}</p>}
      </div>
      <div className="form-row">
        <TextField label="Field label" name="label" value={label} onChange={setLabel} required placeholder="e.g. Lead source" error={errors.label} autoComplete="off" />
        <TextField
          label="API name"
          name="name"
          value={name}
          onChange={setName}
          required
          placeholder="e.g. leadSource"
          hint={type === 'RELATION' ? 'camelCase; records carry the target id as {name}Id.' : 'camelCase; the key in records and webhook payloads.'}
          error={errors.name}
          autoComplete="off"
        />
      </div>
      <TextField label="Field description" name="description" value={description} onChange={setDescription} error={errors.description} multiline />
      {type === 'RELATION' && (
        <div className="field">
          <CompactSelect
            label="Target object"
            value={target}
            onChange={setTarget}
            options={targets.map((candidate) => ({ value: candidate.id, label: `${candidate.labelSingular} (${candidate.nameSingular})` }))}
          />
          <p className="hint">Many-to-one: each {object.labelSingular.toLowerCase()} points at one record of the target.</p>
          {errors.target && <p className="field-error">{errors.target}</p>}
        </div>
      )}
      {isSelect && <OptionsEditor options={options} onChange={setOptions} error={errors.options} />}
      {!NO_DEFAULT.includes(type) && (
        <DefaultValueInput type={type} value={defaultValue} onChange={setDefaultValue} options={options} error={errors.defaultValue} />
      )}
      {!NO_DEFAULT.includes(type) && (
        <div className="checkbox-field">
          <input id={nullableId} type="checkbox" checked={!isNullable} onChange={(event) => setIsNullable(!event.target.checked)} />
          <label htmlFor={nullableId}>Required (records always hold a value; needs a default)</label>
          {errors.isNullable && <p className="field-error">{errors.isNullable}</p>}
        </div>
      )}
      {errors.form && <ErrorNotice message={errors.form} />}
      {errors.objectMetadataId && <ErrorNotice message={errors.objectMetadataId} />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={saving}>
          {saving ? 'Adding…' : 'Add field'}
        </button>
      </div>
    </form>
  );
}

const EDIT_FIELD_INPUTS = ['label', 'description', 'defaultValue', 'options', 'isNullable'];

/** Edits a custom field's label, description, default value and options (name and type never change). */
export function EditFieldForm({ field, onSave, onCancel }: { field: DataField; onSave: (update: FieldUpdate) => Promise<void>; onCancel: () => void }) {
  const [label, setLabel] = useState(field.label);
  const [description, setDescription] = useState(field.description ?? '');
  const [defaultValue, setDefaultValue] = useState(defaultText(field.type, field.defaultValue));
  const [options, setOptions] = useState<FieldOption[]>(field.options ?? []);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saving, setSaving] = useState(false);
  const isSelect = field.type === 'SELECT' || field.type === 'MULTI_SELECT';

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseDefault(field.type, defaultValue);
    if ('error' in parsed) {
      setErrors({ defaultValue: parsed.error });
      return;
    }
    const update: FieldUpdate = { label: label.trim(), description: description.trim() || null };
    if (isSelect) update.options = options;
    if (!NO_DEFAULT.includes(field.type)) update.defaultValue = parsed.value;
    setSaving(true);
    setErrors({});
    try {
      await onSave(update);
    } catch (error) {
      setErrors(errorsFrom(error, EDIT_FIELD_INPUTS));
    } finally {
      setSaving(false);
    }
  };

  return (
    <form className="form" onSubmit={(event) => void submit(event)} noValidate aria-label={`Edit the field ${field.label}`}>
      <p className="muted">
        <code>{field.name}</code> · {FIELD_TYPE_LABELS[field.type]}: the name and type stay as they are.
      </p>
      <TextField label="Field label" name="label" value={label} onChange={setLabel} required error={errors.label} autoComplete="off" />
      <TextField label="Field description" name="description" value={description} onChange={setDescription} error={errors.description} multiline />
      {isSelect && <OptionsEditor options={options} onChange={setOptions} error={errors.options} />}
      <DefaultValueInput type={field.type} value={defaultValue} onChange={setDefaultValue} options={options} error={errors.defaultValue ?? errors.isNullable} />
      {errors.form && <ErrorNotice message={errors.form} />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={saving}>
          {saving ? 'Saving…' : 'Save field'}
        </button>
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
