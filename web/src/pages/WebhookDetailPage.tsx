import { useRef, useState } from 'react';
import { errorMessage } from '../api.ts';
import { WebhookStatusBadge } from '../components/badges.tsx';
import { AttemptView, DeliveryLog } from '../components/DeliveryLog.tsx';
import { AttemptsChart, StatsTiles } from '../components/charts.tsx';
import { ReplayPanel } from '../components/ReplayPanel.tsx';
import { WebhookForm } from '../components/WebhookForm.tsx';
import { CompactSelect, ConfirmDialog, ErrorNotice, OneTimeSecret, Section, Spinner } from '../components/ui.tsx';
import { formatDateTime, prettyJson } from '../format.ts';
import { useDocumentTitle, useInterval, useLoad } from '../hooks.ts';
import { ACTION_OPTIONS, OBJECT_OPTIONS, SWITCHBOARD_EVENTS } from '../operations.ts';
import {
  deleteWebhook,
  fetchWebhook,
  fetchWebhookOverview,
  rotateWebhookSecret,
  sendTestWebhook,
  updateWebhook,
  type TestAttempt,
  type Webhook,
  type WebhookSettings,
} from '../queries.ts';
import { Link, navigate } from '../router.tsx';

const TABS = ['Overview', 'Deliveries', 'Settings'] as const;
type Tab = (typeof TABS)[number];

/** How often the page asks for the webhook's status: a disable in the background (410, five days) shows within this. */
const STATUS_POLL_MS = 3000;

function settingsOf(webhook: Webhook): WebhookSettings {
  return {
    targetUrl: webhook.targetUrl,
    description: webhook.description ?? '',
    operations: webhook.operations,
    filter: webhook.filter ?? null,
    fields: webhook.fields ?? null,
    ordering: webhook.ordering ?? 'NONE',
  };
}

export function WebhookDetailPage({ id }: { id: string }) {
  useDocumentTitle('Webhook');
  const loaded = useLoad(() => fetchWebhook(id), [id]);
  const [webhook, setWebhookState] = useState<Webhook | undefined>();
  const [logVersion, setLogVersion] = useState(0);
  const [tab, setTab] = useState<Tab>('Overview');
  /** A replay asked for from the banner: the panel opens with this start, and takes the focus once. */
  const [replayFrom, setReplayFrom] = useState<{ since: string; request: number; focus: boolean } | undefined>();
  const current = webhook ?? loaded.data ?? undefined;

  // Each change made here counts, so a poll that started before it cannot put the older state back.
  const changes = useRef(0);
  const setWebhook = (next: Webhook) => {
    changes.current++;
    setWebhookState(next);
  };
  useInterval(
    () => {
      const before = changes.current;
      fetchWebhook(id).then(
        (fresh) => {
          if (fresh && before === changes.current && fresh.id === id) setWebhookState(fresh);
        },
        // A failed poll changes nothing on screen; the next one tries again.
        () => undefined,
      );
    },
    STATUS_POLL_MS,
    Boolean(current),
  );
  const openReplay = (since: string) => {
    setReplayFrom((previous) => ({ since, request: (previous?.request ?? 0) + 1, focus: true }));
    setTab('Deliveries');
  };

  if (loaded.error) return <ErrorNotice message={loaded.error} onRetry={() => void loaded.reload()} />;
  if (loaded.loading && !current) return <Spinner label="Loading webhook…" />;
  if (!current) {
    return (
      <>
        <h1>Webhook not found</h1>
        <p>
          It may have been deleted. <Link href="/settings/api-webhooks">Back to API &amp; Webhooks</Link>
        </p>
      </>
    );
  }

  return (
    <>
      <header className="page-header webhook-header">
        <div>
          <h1 className="url-title">{current.targetUrl}</h1>
          <p className="muted small">
            Created {formatDateTime(current.createdAt)} · updated {formatDateTime(current.updatedAt)}
          </p>
        </div>
        <StatusToggle webhook={current} onChange={setWebhook} />
      </header>
      {current.status === 'DISABLED' && <DisabledBanner webhook={current} onChange={setWebhook} onReplay={openReplay} />}

      <div className="tabs" role="tablist" aria-label="Webhook">
        {TABS.map((name) => (
          <button
            key={name}
            type="button"
            role="tab"
            id={`tab-${name}`}
            className="tab"
            aria-selected={tab === name}
            aria-controls={`panel-${name}`}
            tabIndex={tab === name ? 0 : -1}
            onClick={() => setTab(name)}
            onKeyDown={(event) => {
              const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
              if (!step) return;
              const next = TABS[(TABS.indexOf(name) + step + TABS.length) % TABS.length];
              setTab(next);
              document.getElementById(`tab-${next}`)?.focus();
            }}
          >
            {name}
          </button>
        ))}
      </div>

      {tab === 'Overview' && (
        <div role="tabpanel" id="panel-Overview" aria-labelledby="tab-Overview">
          <Overview webhookId={current.id} refreshToken={logVersion} />
        </div>
      )}
      {tab === 'Deliveries' && (
        <div role="tabpanel" id="panel-Deliveries" aria-labelledby="tab-Deliveries">
          <DeliveryLog webhookId={current.id} refreshToken={logVersion} />
          <ReplayPanel
            key={replayFrom?.request ?? 0}
            webhook={current}
            since={replayFrom?.since}
            focusOnOpen={replayFrom?.focus ?? false}
            onFocused={() => setReplayFrom((previous) => previous && { ...previous, focus: false })}
            onQueued={() => setLogVersion((version) => version + 1)}
          />
        </div>
      )}
      {tab === 'Settings' && (
        <div role="tabpanel" id="panel-Settings" aria-labelledby="tab-Settings">
      <Section title="Settings" description="Where events go and which ones.">
        <WebhookForm
          key={current.id}
          initial={settingsOf(current)}
          submitLabel="Save changes"
          onSubmit={async (values) => {
            const updated = await updateWebhook({ id: current.id, ...values });
            setWebhook(updated);
            return settingsOf(updated);
          }}
        />
      </Section>

      <RotateSecret webhookId={current.id} />
      <SendTest webhook={current} onSent={() => setLogVersion((version) => version + 1)} />
      <DeleteWebhook webhook={current} />
        </div>
      )}
    </>
  );
}

function Overview({ webhookId, refreshToken }: { webhookId: string; refreshToken: number }) {
  const overview = useLoad(() => fetchWebhookOverview(webhookId), [webhookId, refreshToken]);
  return (
    <Section title="Overview" description="Delivery attempts to this endpoint; an attempt succeeded when it was answered 2xx.">
      {overview.error && <ErrorNotice message={overview.error} onRetry={() => void overview.reload()} />}
      {overview.loading && !overview.data && <Spinner label="Loading figures…" />}
      {overview.data && (
        <>
          <div className="stats-grid">
            <StatsTiles title="Last 24 hours" stats={overview.data.day.stats} />
            <StatsTiles title="Last 7 days" stats={overview.data.week.stats} />
          </div>
          <AttemptsChart points={overview.data.day.points} />
        </>
      )}
    </Section>
  );
}

/** What each stored reason means to the person who owns the endpoint. */
const DISABLED_REASONS: Record<string, string> = {
  GONE_410: 'The receiver answered 410 Gone, which asks Switchboard to stop sending.',
  FAILING_5_DAYS: 'Every delivery failed for 5 days in a row.',
  BY_USER: 'Someone disabled it.',
};

function DisabledBanner({ webhook, onChange, onReplay }: {
  webhook: Webhook;
  onChange: (webhook: Webhook) => void;
  /** Opens the replay panel with the window starting at `since`. */
  onReplay: (since: string) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const reason = (webhook.disabledReason && DISABLED_REASONS[webhook.disabledReason]) ?? 'It was disabled.';
  const enable = async () => {
    setBusy(true);
    setError(undefined);
    try {
      onChange(await updateWebhook({ id: webhook.id, status: 'ACTIVE' }));
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="notice notice-warning" role="region" aria-label="Why this webhook is disabled">
      <p>
        <strong>Disabled{webhook.disabledAt ? ` ${formatDateTime(webhook.disabledAt)}` : ''}.</strong> {reason} Events written
        meanwhile are not sent; once it is enabled again, they can be replayed.
      </p>
      <div className="notice-actions">
        <button type="button" className="button button-primary" onClick={() => void enable()} disabled={busy}>
          Enable again
        </button>
        {webhook.disabledAt && (
          <button type="button" className="button" onClick={() => onReplay(webhook.disabledAt!)}>
            Replay what was missed
          </button>
        )}
      </div>
      {error && <ErrorNotice message={error} />}
    </div>
  );
}

function StatusToggle({ webhook, onChange }: { webhook: Webhook; onChange: (webhook: Webhook) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const next = webhook.status === 'ACTIVE' ? 'DISABLED' : 'ACTIVE';
  const toggle = async () => {
    setBusy(true);
    setError(undefined);
    try {
      onChange(await updateWebhook({ id: webhook.id, status: next }));
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="status-toggle">
      <span role="status">
        <WebhookStatusBadge status={webhook.status} />
      </span>
      <button type="button" className="button" onClick={() => void toggle()} disabled={busy}>
        {webhook.status === 'ACTIVE' ? 'Disable' : 'Enable'}
      </button>
      {error && <ErrorNotice message={error} />}
    </div>
  );
}

function RotateSecret({ webhookId }: { webhookId: string }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [secret, setSecret] = useState<string | undefined>();
  const rotate = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setSecret(await rotateWebhookSecret(webhookId));
      setConfirming(false);
    } catch (caught) {
      setError(errorMessage(caught));
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section
      title="Signing secret"
      description="The secret signs every request. After a rotation both secrets sign for 24 hours: see what each header carries in the rotation dialog."
      actions={
        <button type="button" className="button" onClick={() => setConfirming(true)}>
          Rotate secret
        </button>
      }
    >
      {error && <ErrorNotice message={error} />}
      {secret && (
        <OneTimeSecret title="New signing secret" value={secret}>
          <button type="button" className="button button-ghost" onClick={() => setSecret(undefined)}>
            Done
          </button>
        </OneTimeSecret>
      )}
      <ConfirmDialog
        open={confirming}
        title="Rotate the signing secret?"
        message={
          <>
            <p>A new secret is generated and shown once. For the next 24 hours every request carries:</p>
            <ul>
              <li>
                <code>X-Twenty-Signature</code>: the new secret&apos;s signature only;
              </li>
              <li>
                <code>X-Twenty-Signature-Previous</code>: the old secret&apos;s signature;
              </li>
              <li>
                <code>webhook-signature</code>: both <code>v1,</code> signatures, space-separated (new first).
              </li>
            </ul>
            <p>
              A receiver that verifies only <code>X-Twenty-Signature</code> with the old secret fails until it switches to the new one; its failed
              deliveries are retried, so they arrive once it has. After 24 hours only the new secret signs.
            </p>
          </>
        }
        confirmLabel="Rotate"
        busy={busy}
        onConfirm={() => void rotate()}
        onCancel={() => setConfirming(false)}
      />
    </Section>
  );
}

function SendTest({ webhook, onSent }: { webhook: Webhook; onSent: () => void }) {
  const [operation, setOperation] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [result, setResult] = useState<TestAttempt | undefined>();
  const concrete = [
    ...OBJECT_OPTIONS.filter((object) => object.value !== '*').flatMap((object) =>
      ACTION_OPTIONS.filter((action) => action.value !== '*').map((action) => ({
        value: `${object.value}.${action.value}`,
        label: `${object.label} · ${action.label}`,
      })),
    ),
    ...SWITCHBOARD_EVENTS.map((event) => ({ value: event.value, label: event.label })),
  ];
  const send = async () => {
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      setResult(await sendTestWebhook(webhook.id, operation || null));
      onSent();
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title="Send a test event" description="Signs and sends a sample event now, and shows what the endpoint answered. Tests are not kept in the log.">
      <div className="inline-form">
        <CompactSelect
          label="Test event"
          value={operation}
          onChange={setOperation}
          options={[{ value: '', label: 'From the webhook’s events' }, ...concrete]}
        />
        <button type="button" className="button button-primary" onClick={() => void send()} disabled={busy}>
          {busy ? 'Sending…' : 'Send test event'}
        </button>
      </div>
      <div aria-live="polite">
        {error && <ErrorNotice message={error} />}
        {result && (
          <div className="test-result" data-testid="test-result">
            <ul className="attempts">
              <AttemptView attempt={result} title={`Test ${result.operation}`} />
            </ul>
            <details>
              <summary>Request body</summary>
              <pre className="code-block" tabIndex={0}>{prettyJson(result.payload)}</pre>
            </details>
          </div>
        )}
      </div>
    </Section>
  );
}

function DeleteWebhook({ webhook }: { webhook: Webhook }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const remove = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await deleteWebhook(webhook.id);
      navigate('/settings/api-webhooks');
    } catch (caught) {
      setError(errorMessage(caught));
      setBusy(false);
    }
  };
  return (
    <Section title="Danger zone" description="Deleting stops new events at once. The delivery log goes with it.">
      <button type="button" className="button button-danger" onClick={() => setConfirming(true)}>
        Delete webhook
      </button>
      <ConfirmDialog
        open={confirming}
        title="Delete this webhook?"
        message={
          <>
            <p>
              <code>{webhook.targetUrl}</code> will stop receiving events. This cannot be undone.
            </p>
            {error && <ErrorNotice message={error} />}
          </>
        }
        confirmLabel="Delete"
        danger
        busy={busy}
        onConfirm={() => void remove()}
        onCancel={() => setConfirming(false)}
      />
    </Section>
  );
}
