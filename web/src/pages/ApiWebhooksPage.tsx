import { useState, type FormEvent } from 'react';
import { errorMessage } from '../api.ts';
import { LastDeliverySummary, OperationChips, WebhookStatusBadge } from '../components/badges.tsx';
import { Sparkline, formatRate } from '../components/charts.tsx';
import { Badge, ConfirmDialog, RelativeTime, ErrorNotice, OneTimeSecret, Section, Spinner, TextField } from '../components/ui.tsx';
import { formatDateTime } from '../format.ts';
import { useDocumentTitle, useLoad } from '../hooks.ts';
import { createApiKey, fetchApiKeys, fetchWebhooks, revokeApiKey, type ApiKey } from '../queries.ts';
import { Link } from '../router.tsx';

export function ApiWebhooksPage() {
  useDocumentTitle('API & Webhooks');
  return (
    <>
      <header className="page-header">
        <h1>API &amp; Webhooks</h1>
        <p className="muted">Send signed events to your endpoints when records change, and manage the keys that use the API.</p>
      </header>
      <WebhooksSection />
      <ApiKeysSection />
    </>
  );
}

function WebhooksSection() {
  const webhooks = useLoad(fetchWebhooks, []);
  return (
    <Section
      title="Webhooks"
      description="Each endpoint gets a signed POST for every event it subscribes to; failed deliveries are retried for hours."
      actions={
        <Link className="button button-primary" href="/settings/api-webhooks/webhooks/new">
          + Create Webhook
        </Link>
      }
    >
      {webhooks.error && <ErrorNotice message={webhooks.error} onRetry={() => void webhooks.reload()} />}
      {webhooks.loading && !webhooks.data && <Spinner label="Loading webhooks…" />}
      {webhooks.data && webhooks.data.length === 0 && (
        <div className="empty">
          <p>No webhooks yet.</p>
          <p className="muted">Create one to receive an HTTP POST whenever a person, company or opportunity changes.</p>
        </div>
      )}
      {webhooks.data && webhooks.data.length > 0 && (
        <table className="table stack-on-phone">
          <caption className="visually-hidden">Webhooks</caption>
          <thead>
            <tr>
              <th scope="col">Endpoint URL</th>
              <th scope="col">Events</th>
              <th scope="col">Status</th>
              <th scope="col">Last delivery</th>
            </tr>
          </thead>
          <tbody>
            {webhooks.data.map((webhook) => (
              <tr key={webhook.id}>
                <td data-label="Endpoint URL">
                  <div>
                    <Link className="url-link" href={`/settings/api-webhooks/webhooks/${webhook.id}`}>
                      {webhook.targetUrl}
                    </Link>
                    {webhook.description && <div className="muted small">{webhook.description}</div>}
                  </div>
                </td>
                <td data-label="Events">
                  <OperationChips operations={webhook.operations} />
                </td>
                <td data-label="Status">
                  <WebhookStatusBadge status={webhook.status} />
                </td>
                <td data-label="Last delivery">
                  <LastDeliverySummary delivery={webhook.lastDelivery} />
                  {webhook.recent && webhook.recent.stats.sent > 0 && (
                    <div className="recent">
                      <Sparkline
                        points={webhook.recent.points}
                        label={`Last 24 hours: ${webhook.recent.stats.sent} attempts, ${formatRate(webhook.recent.stats.successRate)} succeeded`}
                      />
                      <span className="muted small">{formatRate(webhook.recent.stats.successRate)} ok · 24 h</span>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function ApiKeysSection() {
  const keys = useLoad(fetchApiKeys, []);
  const [name, setName] = useState('');
  const [creating, setCreating] = useState(false);
  const [createError, setCreateError] = useState<string | undefined>();
  const [created, setCreated] = useState<{ name: string; key: string } | undefined>();
  const [revoking, setRevoking] = useState<ApiKey | undefined>();
  const [revokeBusy, setRevokeBusy] = useState(false);
  const [revokeError, setRevokeError] = useState<string | undefined>();

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setCreating(true);
    setCreateError(undefined);
    try {
      const key = await createApiKey(name.trim());
      setCreated({ name: name.trim() || key.keyPrefix, key: key.key });
      setName('');
      await keys.reload({ quiet: true });
    } catch (error) {
      setCreateError(errorMessage(error));
    } finally {
      setCreating(false);
    }
  };

  const revoke = async () => {
    if (!revoking) return;
    setRevokeBusy(true);
    setRevokeError(undefined);
    try {
      await revokeApiKey(revoking.id);
      setRevoking(undefined);
      await keys.reload({ quiet: true });
    } catch (error) {
      setRevokeError(errorMessage(error));
    } finally {
      setRevokeBusy(false);
    }
  };

  return (
    <Section title="API keys" description="Keys authenticate calls to /graphql and /rest. Each one belongs to this workspace.">
      <form className="inline-form" onSubmit={(event) => void create(event)}>
        <TextField label="New key name" name="apiKeyName" value={name} onChange={setName} placeholder="e.g. Zapier" autoComplete="off" />
        <button type="submit" className="button button-primary" disabled={creating}>
          {creating ? 'Creating…' : 'Create API key'}
        </button>
      </form>
      {createError && <ErrorNotice message={createError} />}
      {created && (
        <OneTimeSecret title={`API key “${created.name}” created`} value={created.key}>
          <button type="button" className="button button-ghost" onClick={() => setCreated(undefined)}>
            Done
          </button>
        </OneTimeSecret>
      )}
      {keys.error && <ErrorNotice message={keys.error} onRetry={() => void keys.reload()} />}
      {keys.loading && !keys.data && <Spinner label="Loading API keys…" />}
      {keys.data && (
        <table className="table stack-on-phone">
          <caption className="visually-hidden">API keys</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Key</th>
              <th scope="col">Created</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.data.map((key) => (
              <tr key={key.id}>
                <td data-label="Name">{key.name || <span className="muted">Unnamed</span>}</td>
                <td data-label="Key">
                  <code>{key.keyPrefix}…</code>
                </td>
                <td data-label="Created">{formatDateTime(key.createdAt)}</td>
                <td data-label="Last used">{key.lastUsedAt ? <RelativeTime value={key.lastUsedAt} /> : 'Never'}</td>
                <td data-label="Status" className="actions-cell">
                  {key.revokedAt ? (
                    <Badge tone="gray">Revoked</Badge>
                  ) : (
                    <button
                      type="button"
                      className="button button-small button-danger-ghost"
                      onClick={() => setRevoking(key)}
                      aria-label={`Revoke API key ${key.name || key.keyPrefix}`}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ConfirmDialog
        open={revoking !== undefined}
        title="Revoke this API key?"
        message={
          <>
            <p>
              Calls with <code>{revoking?.keyPrefix}…</code> will be refused at once. This cannot be undone. If this browser signed in
              with it, you will be signed out.
            </p>
            {revokeError && <ErrorNotice message={revokeError} />}
          </>
        }
        confirmLabel="Revoke"
        danger
        busy={revokeBusy}
        onConfirm={() => void revoke()}
        onCancel={() => {
          setRevoking(undefined);
          setRevokeError(undefined);
        }}
      />
    </Section>
  );
}
