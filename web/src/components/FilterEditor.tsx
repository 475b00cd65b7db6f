import { useId } from 'react';
import {
  builderToFilter,
  COMPARATOR_LABELS,
  comparatorsFor,
  conditionProblem,
  filterText,
  filterToBuilder,
  newCondition,
  parseFilterText,
  takesList,
  takesNoValue,
  type BuilderFilter,
  type Comparator,
  type Condition,
} from '../filter.ts';
import type { FieldSummary, FieldType } from '../queries.ts';
import { CompactSelect } from './ui.tsx';

/** The filter as edited: the builder's conditions, or JSON text (authoritative in the JSON view). */
export type FilterState = { mode: 'builder'; builder: BuilderFilter } | { mode: 'json'; text: string };

export function fieldTypes(fields: readonly FieldSummary[]): Map<string, FieldType> {
  return new Map(fields.map((field) => [field.name, field.type]));
}

/** The editor's first state for a stored filter: the builder when it can show it exactly, else JSON. */
export function initialFilterState(filter: unknown, fields: readonly FieldSummary[]): FilterState {
  const builder = filterToBuilder(filter, fieldTypes(fields));
  return builder ? { mode: 'builder', builder } : { mode: 'json', text: filterText(filter) };
}

/** The filter to save, or a problem to show instead of saving (it names the condition at fault). */
export function filterOfState(state: FilterState, fields: readonly FieldSummary[]): { filter: unknown } | { problem: string } {
  if (state.mode === 'json') return parseFilterText(state.text);
  const types = fieldTypes(fields);
  for (const [index, condition] of state.builder.conditions.entries()) {
    const problem = conditionProblem(condition, types.get(condition.field));
    if (problem) return { problem: `Condition ${index + 1}: ${problem}` };
  }
  return { filter: builderToFilter(state.builder, types) };
}

/** Which builder condition a server error's path (`filter.or[1].amount.gt`, `filter.city.eq`) points at. */
export function conditionIndexOf(path: string | undefined, state: FilterState): number | undefined {
  if (!path || state.mode !== 'builder') return undefined;
  const listed = /^filter\.(?:and|or)\[(\d+)\]/.exec(path);
  if (listed) return Number(listed[1]);
  return state.builder.conditions.length === 1 && path.startsWith('filter.') ? 0 : undefined;
}

/**
 * A record filter: a builder for simple conditions joined with and/or, and a JSON view for anything else.
 * Switching to JSON always works; back to the builder only when the JSON is simple enough to show exactly.
 */
export function FilterEditor({ state, onChange, fields, error, errorIndex }: {
  state: FilterState;
  onChange: (state: FilterState) => void;
  /** The fields the chosen objects have (with the system ones), for the builder's field picker. */
  fields: readonly FieldSummary[];
  error?: string;
  /** The builder condition the error is about, when the server's path names one. */
  errorIndex?: number;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const noteId = `${id}-note`;
  const types = fieldTypes(fields);
  const jsonParsed = state.mode === 'json' ? parseFilterText(state.text) : undefined;
  const asBuilder = jsonParsed && 'filter' in jsonParsed ? filterToBuilder(jsonParsed.filter, types) : null;

  const toJson = () => {
    if (state.mode !== 'builder') return;
    onChange({ mode: 'json', text: filterText(builderToFilter(state.builder, types)) });
  };
  const toBuilder = () => {
    if (asBuilder) onChange({ mode: 'builder', builder: asBuilder });
  };

  let note: string | undefined;
  if (jsonParsed && 'problem' in jsonParsed) note = jsonParsed.problem;
  else if (jsonParsed && !asBuilder) {
    note = 'The builder cannot show this filter (nesting, not, several operators on one field, a sub-field, or a field not listed): the JSON here is what is saved.';
  }

  return (
    <fieldset className="field filter-editor" aria-describedby={[hintId, error ? errorId : ''].filter(Boolean).join(' ')}>
      <legend>Filter</legend>
      <p className="hint" id={hintId}>
        Send only events whose record matches, tested on the record after the change (the last state for deleted and destroyed
        events). Same grammar as the records API’s list <code>filter</code>. No conditions: every event is sent.
      </p>
      <div className="filter-mode" role="group" aria-label="Filter view">
        <button type="button" className="button button-small" aria-pressed={state.mode === 'builder'} onClick={toBuilder} disabled={state.mode === 'json' && !asBuilder}>
          Builder
        </button>
        <button type="button" className="button button-small" aria-pressed={state.mode === 'json'} onClick={toJson}>
          JSON
        </button>
      </div>
      {state.mode === 'builder' ? (
        <ConditionsBuilder builder={state.builder} onChange={(builder) => onChange({ mode: 'builder', builder })} fields={fields} errorIndex={errorIndex} />
      ) : (
        <>
          <label htmlFor={`${id}-json`} className="visually-hidden">
            Filter JSON
          </label>
          <textarea
            id={`${id}-json`}
            className={`input code-input${error || (jsonParsed && 'problem' in jsonParsed) ? ' input-invalid' : ''}`}
            rows={Math.min(14, Math.max(4, state.text.split('\n').length + 1))}
            spellCheck={false}
            value={state.text}
            placeholder='{ "amount": { "gt": 10000 } }'
            aria-describedby={note ? noteId : undefined}
            onChange={(event) => onChange({ mode: 'json', text: event.target.value })}
          />
          {note && (
            <p className="hint filter-note" id={noteId} data-testid="filter-note">
              {note}
            </p>
          )}
        </>
      )}
      {error && (
        <p className="field-error" id={errorId} role="alert">
          {error}
        </p>
      )}
    </fieldset>
  );
}

function ConditionsBuilder({ builder, onChange, fields, errorIndex }: {
  builder: BuilderFilter;
  onChange: (builder: BuilderFilter) => void;
  fields: readonly FieldSummary[];
  errorIndex?: number;
}) {
  const byName = new Map(fields.map((field) => [field.name, field]));
  const fieldOptions = [{ value: '', label: 'Choose a field' }, ...fields.map((field) => ({ value: field.name, label: `${field.label} (${field.name})` }))];
  const update = (key: number, patch: Partial<Condition>) =>
    onChange({ ...builder, conditions: builder.conditions.map((condition) => (condition.key === key ? { ...condition, ...patch } : condition)) });

  return (
    <>
      {builder.conditions.length > 1 && (
        <CompactSelect
          label="Match"
          value={builder.combinator}
          onChange={(combinator) => onChange({ ...builder, combinator: combinator as 'and' | 'or' })}
          options={[
            { value: 'and', label: 'All conditions (and)' },
            { value: 'or', label: 'Any condition (or)' },
          ]}
        />
      )}
      {builder.conditions.length === 0 && <p className="muted small">No conditions: every event of the chosen events is sent.</p>}
      <ul className="condition-rows">
        {builder.conditions.map((condition, index) => {
          const field = byName.get(condition.field);
          const comparators = comparatorsFor(field?.type);
          const withCurrent = (options: Array<{ value: string; label: string }>, value: string) =>
            options.some((option) => option.value === value) ? options : [...options, { value, label: `${value} (not a field of the chosen objects)` }];
          return (
            <li key={condition.key} className={`condition-row${errorIndex === index ? ' condition-invalid' : ''}`} data-condition={index + 1}>
              <CompactSelect
                label={`Field ${index + 1}`}
                value={condition.field}
                onChange={(name) => {
                  const next = comparatorsFor(byName.get(name)?.type);
                  update(condition.key, { field: name, comparator: next.includes(condition.comparator) ? condition.comparator : (next[0] ?? 'eq') });
                }}
                options={withCurrent(fieldOptions, condition.field)}
              />
              <CompactSelect
                label={`Comparator ${index + 1}`}
                value={condition.comparator}
                onChange={(comparator) => update(condition.key, { comparator: comparator as Comparator })}
                options={comparators.map((comparator) => ({ value: comparator, label: COMPARATOR_LABELS[comparator] }))}
              />
              {!takesNoValue(condition.comparator) && (
                <ValueInput index={index} condition={condition} field={field} onChange={(value) => update(condition.key, { value })} />
              )}
              <button
                type="button"
                className="button button-ghost"
                onClick={() => onChange({ ...builder, conditions: builder.conditions.filter((other) => other.key !== condition.key) })}
                aria-label={`Remove condition ${index + 1}`}
              >
                Remove
              </button>
            </li>
          );
        })}
      </ul>
      <button type="button" className="button button-small" onClick={() => onChange({ ...builder, conditions: [...builder.conditions, newCondition()] })}>
        + Add condition
      </button>
    </>
  );
}

function ValueInput({ index, condition, field, onChange }: {
  index: number;
  condition: Condition;
  field: FieldSummary | undefined;
  onChange: (value: string) => void;
}) {
  const id = useId();
  const label = `Value ${index + 1}`;
  const list = takesList(condition.comparator);
  if (!list && field?.type === 'BOOLEAN') {
    return (
      <CompactSelect
        label={label}
        value={condition.value}
        onChange={onChange}
        options={[
          { value: '', label: 'Choose' },
          { value: 'true', label: 'true' },
          { value: 'false', label: 'false' },
        ]}
      />
    );
  }
  if (!list && field?.options) {
    return <CompactSelect label={label} value={condition.value} onChange={onChange} options={[{ value: '', label: 'Choose an option' }, ...field.options]} />;
  }
  const placeholder = list
    ? field?.options
      ? field.options.map((option) => option.value).slice(0, 3).join(', ')
      : 'comma-separated values'
    : field?.type === 'NUMBER'
      ? '10000'
      : field?.type === 'DATE_TIME' || field?.type === 'DATE'
        ? '2024-03-04T11:00:00Z'
        : condition.comparator === 'like' || condition.comparator === 'ilike'
          ? '%@example.com'
          : '';
  return (
    <div className="compact-field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        className="input"
        value={condition.value}
        inputMode={field?.type === 'NUMBER' && !list ? 'decimal' : undefined}
        placeholder={placeholder}
        onChange={(event) => onChange(event.target.value)}
      />
    </div>
  );
}
