import { useState, type FormEvent } from 'react';
import { errorsFrom, type FieldErrors } from '../components/data-model-forms.tsx';
import { Badge, ErrorNotice, Section, Spinner, TextField } from '../components/ui.tsx';
import { createObject, type DataObject } from '../data-model-queries.ts';
import { useDocumentTitle, useLoad } from '../hooks.ts';
import { fetchDataModel } from '../data-model-queries.ts';
import { Link, navigate } from '../router.tsx';

export const DATA_MODEL_HOME = '/settings/data-model';

export function objectHref(object: Pick<DataObject, 'nameSingular'>): string {
  return `${DATA_MODEL_HOME}/${encodeURIComponent(object.nameSingular)}`;
}

/** Settings → Data model: every object of the workspace with its fields, and a form to create one. */
export function DataModelPage() {
  useDocumentTitle('Data model');
  const model = useLoad(fetchDataModel, []);
  return (
    <div className="data-model">
      <header className="page-header">
        <h1>Data model</h1>
        <p className="muted">
          The objects of this workspace and their fields. Each object has its own GraphQL and REST API and sends{' '}
          <code>{'{object}.created'}</code>, <code>.updated</code>, <code>.deleted</code>… webhooks.
        </p>
      </header>
      <Section title="Objects" description="Standard objects come with every workspace; custom ones are yours. Open one to see and change its fields.">
        {model.error && <ErrorNotice message={model.error} onRetry={() => void model.reload()} />}
        {model.loading && !model.data && <Spinner label="Loading the data model…" />}
        {model.data && (
          <table className="table stack-on-phone">
            <caption className="visually-hidden">Objects</caption>
            <thead>
              <tr>
                <th scope="col">Object</th>
                <th scope="col">Kind</th>
                <th scope="col">Status</th>
                <th scope="col">Fields</th>
              </tr>
            </thead>
            <tbody>
              {model.data.map((object) => (
                <tr key={object.id}>
                  <td data-label="Object">
                    <div>
                      <Link href={objectHref(object)}>{object.labelPlural}</Link>
                      <div className="muted small">
                        <code>{object.nameSingular}</code> · <code>/rest/{object.namePlural}</code>
                      </div>
                    </div>
                  </td>
                  <td data-label="Kind">{object.isCustom ? <Badge tone="blue">Custom</Badge> : <Badge tone="gray">Standard</Badge>}</td>
                  <td data-label="Status">{object.isActive ? <Badge tone="green">Active</Badge> : <Badge tone="amber">Inactive</Badge>}</td>
                  <td data-label="Fields">
                    <ul className="chips field-chips" aria-label={`Fields of ${object.labelSingular}`}>
                      {object.fields.map((field) => (
                        <li key={field.id} className={`chip${field.isActive ? '' : ' chip-inactive'}`}>
                          <span className="chip-name">{field.name}</span>
                          <span className="muted"> · {field.type}</span>
                          {!field.isActive && <span className="visually-hidden"> (inactive)</span>}
                        </li>
                      ))}
                    </ul>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      <Section title="Create an object" description="Names are camelCase and never change: the API, events and webhooks use them. Labels can change later.">
        <NewObjectForm />
      </Section>
    </div>
  );
}

const OBJECT_INPUTS = ['nameSingular', 'namePlural', 'labelSingular', 'labelPlural', 'description'];

function NewObjectForm() {
  const [labelSingular, setLabelSingular] = useState('');
  const [labelPlural, setLabelPlural] = useState('');
  const [nameSingular, setNameSingular] = useState('');
  const [namePlural, setNamePlural] = useState('');
  const [description, setDescription] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saving, setSaving] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setErrors({});
    try {
      const object = await createObject({
        nameSingular: nameSingular.trim(),
        namePlural: namePlural.trim(),
        labelSingular: labelSingular.trim(),
        labelPlural: labelPlural.trim(),
        description: description.trim() || null,
      });
      navigate(objectHref(object));
    } catch (error) {
      setErrors(errorsFrom(error, OBJECT_INPUTS));
      setSaving(false);
    }
  };

  return (
    <form className="form card" onSubmit={(event) => void submit(event)} noValidate aria-label="Create an object">
      <div className="form-row">
        <TextField label="Singular label" name="labelSingular" value={labelSingular} onChange={setLabelSingular} required placeholder="e.g. Invoice" error={errors.labelSingular} autoComplete="off" />
        <TextField label="Plural label" name="labelPlural" value={labelPlural} onChange={setLabelPlural} required placeholder="e.g. Invoices" error={errors.labelPlural} autoComplete="off" />
      </div>
      <div className="form-row">
        <TextField
          label="Singular API name"
          name="nameSingular"
          value={nameSingular}
          onChange={setNameSingular}
          required
          placeholder="e.g. invoice"
          hint="Events are named after it: invoice.created."
          error={errors.nameSingular}
          autoComplete="off"
        />
        <TextField
          label="Plural API name"
          name="namePlural"
          value={namePlural}
          onChange={setNamePlural}
          required
          placeholder="e.g. invoices"
          hint="Lists and REST use it: /rest/invoices."
          error={errors.namePlural}
          autoComplete="off"
        />
      </div>
      <TextField label="Description" name="description" value={description} onChange={setDescription} error={errors.description} multiline />
      {errors.form && <ErrorNotice message={errors.form} />}
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={saving}>
          {saving ? 'Creating…' : 'Create object'}
        </button>
      </div>
    </form>
  );
}
