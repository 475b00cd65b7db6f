import { useEffect, useState, type FormEvent } from 'react';
import { errorMessage } from '../api.ts';
import { EditFieldForm, errorsFrom, NewFieldForm, type FieldErrors } from '../components/data-model-forms.tsx';
import { Badge, ConfirmDialog, ErrorNotice, Section, Spinner, TextField } from '../components/ui.tsx';
import {
  deleteField,
  deleteObject,
  FIELD_TYPE_LABELS,
  fetchDataModel,
  updateField,
  updateObject,
  type DataField,
  type DataObject,
} from '../data-model-queries.ts';
import { useDocumentTitle, useLoad } from '../hooks.ts';
import { Link, navigate } from '../router.tsx';
import { DATA_MODEL_HOME } from './DataModelPage.tsx';

/** One object of the data model: its fields, adding and changing fields, and (custom objects) its settings. */
export function ObjectPage({ nameSingular }: { nameSingular: string }) {
  const model = useLoad(fetchDataModel, [nameSingular]);
  const object = model.data?.find((candidate) => candidate.nameSingular === nameSingular);
  useDocumentTitle(object ? object.labelPlural : 'Object');

  if (!model.data) {
    return model.error ? <ErrorNotice message={model.error} onRetry={() => void model.reload()} /> : <Spinner label="Loading the object…" />;
  }
  if (!object) {
    return (
      <>
        <h1>Object not found</h1>
        <p>
          This workspace has no object <code>{nameSingular}</code>. <Link href={DATA_MODEL_HOME}>See every object</Link>.
        </p>
      </>
    );
  }
  return <ObjectView object={object} objects={model.data} reload={() => model.reload({ quiet: true })} />;
}

function ObjectView({ object, objects, reload }: { object: DataObject; objects: DataObject[]; reload: () => Promise<void> }) {
  const [editing, setEditing] = useState<string | undefined>();
  const [deleting, setDeleting] = useState<DataField | undefined>();
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | undefined>();
  const [dialogError, setDialogError] = useState<string | undefined>();
  const [notice, setNotice] = useState<string | undefined>();
  const editingField = object.fields.find((field) => field.id === editing);
  const objectName = (id: string | null) => objects.find((candidate) => candidate.id === id);

  useEffect(() => {
    if (editingField) document.getElementById('edit-field')?.scrollIntoView({ block: 'nearest' });
  }, [editingField]);

  const setActive = async (field: DataField, isActive: boolean) => {
    setBusy(true);
    setActionError(undefined);
    try {
      await updateField(field.id, { isActive });
      setNotice(`${field.label} ${isActive ? 'reactivated' : 'deactivated'}.`);
      await reload();
    } catch (error) {
      setActionError(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  const removeField = async () => {
    if (!deleting) return;
    setBusy(true);
    setDialogError(undefined);
    try {
      await deleteField(deleting.id);
      setNotice(`${deleting.label} deleted.`);
      setDeleting(undefined);
      await reload();
    } catch (error) {
      setDialogError(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="data-model">
      <header className="page-header">
        <h1>{object.labelPlural}</h1>
        <p className="object-facts">
          {object.isCustom ? <Badge tone="blue">Custom</Badge> : <Badge tone="gray">Standard</Badge>}{' '}
          {object.isActive ? <Badge tone="green">Active</Badge> : <Badge tone="amber">Inactive</Badge>}{' '}
          <span className="muted">
            <code>{object.nameSingular}</code> · <code>{object.namePlural}</code> · <code>/rest/{object.namePlural}</code>
          </span>
        </p>
        {object.description && <p className="muted">{object.description}</p>}
      </header>
      <span role="status" className="visually-hidden">
        {notice ?? ''}
      </span>

      <Section title="Fields" description={`What each ${object.labelSingular.toLowerCase()} record holds. Deactivated fields leave the API and webhook payloads; their values are kept.`}>
        {actionError && <ErrorNotice message={actionError} />}
        <table className="table stack-on-phone">
          <caption className="visually-hidden">Fields of {object.labelSingular}</caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Type</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {object.fields.map((field) => (
              <tr key={field.id} data-field={field.name}>
                <td data-label="Field">
                  <div>
                    <strong>{field.label}</strong>
                    <div className="muted small">
                      <code>{field.type === 'RELATION' ? `${field.name}Id` : field.name}</code>
                      {field.description ? ` · ${field.description}` : ''}
                    </div>
                  </div>
                </td>
                <td data-label="Type">
                  <div>
                    {FIELD_TYPE_LABELS[field.type]}
                    {field.type === 'RELATION' && field.relationTargetObjectMetadataId && (
                      <div className="muted small">→ {objectName(field.relationTargetObjectMetadataId)?.labelSingular ?? 'a deleted object'}</div>
                    )}
                    {field.options && <div className="muted small">{field.options.map((option) => option.value).join(', ')}</div>}
                  </div>
                </td>
                <td data-label="State">
                  <div className="badges">
                    {field.isActive ? <Badge tone="green">Active</Badge> : <Badge tone="amber">Inactive</Badge>}
                    {field.isCustom ? <Badge tone="blue">Custom</Badge> : <Badge tone="gray">Standard</Badge>}
                    {!field.isNullable && <Badge tone="gray">Required</Badge>}
                  </div>
                </td>
                <td data-label="Actions" className="actions-cell">
                  {field.isCustom ? (
                    <div className="row-actions">
                      <button type="button" className="button button-small" onClick={() => setEditing(field.id)} aria-label={`Edit ${field.label}`}>
                        Edit
                      </button>
                      <button
                        type="button"
                        className="button button-small"
                        onClick={() => void setActive(field, !field.isActive)}
                        disabled={busy}
                        aria-label={`${field.isActive ? 'Deactivate' : 'Reactivate'} ${field.label}`}
                      >
                        {field.isActive ? 'Deactivate' : 'Reactivate'}
                      </button>
                      {!field.isActive && (
                        <button
                          type="button"
                          className="button button-small button-danger-ghost"
                          onClick={() => {
                            setDialogError(undefined);
                            setDeleting(field);
                          }}
                          aria-label={`Delete ${field.label}`}
                        >
                          Delete
                        </button>
                      )}
                    </div>
                  ) : (
                    <span className="muted small">Fixed</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>

      {editingField && (
        <Section id="edit-field" title={`Edit field “${editingField.label}”`}>
          <div className="card">
            <EditFieldForm
              key={editingField.id}
              field={editingField}
              onSave={async (update) => {
                await updateField(editingField.id, update);
                setEditing(undefined);
                setNotice(`${update.label ?? editingField.label} saved.`);
                await reload();
              }}
              onCancel={() => setEditing(undefined)}
            />
          </div>
        </Section>
      )}

      <Section title="Add a field" description="Any object, standard or custom, takes custom fields. Records and webhook payloads carry them at once.">
        <div className="card">
          <NewFieldForm
            object={object}
            objects={objects}
            onCreated={async (field) => {
              setNotice(`${field.label} added.`);
              await reload();
            }}
          />
        </div>
      </Section>

      {object.isCustom && <ObjectSettings object={object} reload={reload} />}

      <ConfirmDialog
        open={deleting !== undefined}
        title="Delete this field?"
        message={
          <>
            <p>
              <code>{deleting?.name}</code> and every value stored in it are removed for good. Events already sent keep it.
            </p>
            {dialogError && <ErrorNotice message={dialogError} />}
          </>
        }
        confirmLabel="Delete field"
        danger
        busy={busy}
        onConfirm={() => void removeField()}
        onCancel={() => setDeleting(undefined)}
      />
    </div>
  );
}

const OBJECT_INPUTS = ['labelSingular', 'labelPlural', 'description'];

/** A custom object's labels and description, deactivation and deletion. */
function ObjectSettings({ object, reload }: { object: DataObject; reload: () => Promise<void> }) {
  const [labelSingular, setLabelSingular] = useState(object.labelSingular);
  const [labelPlural, setLabelPlural] = useState(object.labelPlural);
  const [description, setDescription] = useState(object.description ?? '');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | undefined>();

  const save = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    setSaved(false);
    setErrors({});
    try {
      await updateObject(object.id, { labelSingular: labelSingular.trim(), labelPlural: labelPlural.trim(), description: description.trim() || null });
      setSaved(true);
      await reload();
    } catch (error) {
      setErrors(errorsFrom(error, OBJECT_INPUTS));
    } finally {
      setSaving(false);
    }
  };

  const setActive = async (isActive: boolean) => {
    setBusy(true);
    setActionError(undefined);
    try {
      await updateObject(object.id, { isActive });
      await reload();
    } catch (error) {
      setActionError(errorMessage(error));
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    setBusy(true);
    setActionError(undefined);
    try {
      await deleteObject(object.id);
      navigate(DATA_MODEL_HOME);
    } catch (error) {
      setActionError(errorMessage(error));
      setBusy(false);
    }
  };

  return (
    <Section title="Object settings" description="Labels and description can change; the API names cannot.">
      <form className="form card" onSubmit={(event) => void save(event)} noValidate aria-label="Object settings">
        <div className="form-row">
          <TextField label="Singular label" name="labelSingular" value={labelSingular} onChange={setLabelSingular} required error={errors.labelSingular} autoComplete="off" />
          <TextField label="Plural label" name="labelPlural" value={labelPlural} onChange={setLabelPlural} required error={errors.labelPlural} autoComplete="off" />
        </div>
        <TextField label="Description" name="description" value={description} onChange={setDescription} error={errors.description} multiline />
        {errors.form && <ErrorNotice message={errors.form} />}
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={saving}>
            {saving ? 'Saving…' : 'Save object'}
          </button>
          <span role="status" className="muted">
            {saved && !saving ? 'Saved' : ''}
          </span>
        </div>
      </form>
      <div className="danger-zone">
        <h3>{object.isActive ? 'Deactivate' : 'Reactivate or delete'}</h3>
        <p className="muted">
          {object.isActive
            ? 'A deactivated object leaves the GraphQL and REST APIs and sends no more events; its records are kept and come back when it is reactivated.'
            : 'Deleting removes the object with its fields and every record, without sending events. Webhooks that name it or its fields must be changed first.'}
        </p>
        {actionError && <ErrorNotice message={actionError} />}
        <div className="form-actions">
          <button type="button" className="button" onClick={() => void setActive(!object.isActive)} disabled={busy}>
            {object.isActive ? 'Deactivate object' : 'Reactivate object'}
          </button>
          {!object.isActive && (
            <button type="button" className="button button-danger" onClick={() => setConfirming(true)} disabled={busy}>
              Delete object
            </button>
          )}
        </div>
      </div>
      <ConfirmDialog
        open={confirming}
        title={`Delete ${object.labelSingular}?`}
        message={
          <>
            <p>
              <code>{object.nameSingular}</code>, its fields and all its records are removed for good. This cannot be undone.
            </p>
            {actionError && <ErrorNotice message={actionError} />}
          </>
        }
        confirmLabel="Delete object"
        danger
        busy={busy}
        onConfirm={() => void remove()}
        onCancel={() => setConfirming(false)}
      />
    </Section>
  );
}
