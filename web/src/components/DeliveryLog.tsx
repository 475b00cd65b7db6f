import { useState, type FormEvent } from 'react';
import { errorMessage } from '../api.ts';
import { formatDateTime, formatDuration, localToIso, prettyJson } from '../format.ts';
import { useInterval, useLoad } from '../hooks.ts';
import {
  fetchDeliveries,
  fetchDelivery,
  redeliver,
  type Attempt,
  type Delivery,
  type DeliveryFilters,
  type DeliveryStatus,
  type HttpHeader,
} from '../queries.ts';
import { DeliveryStatusBadge, StatusCodeBadge } from './badges.tsx';
import { Badge, CompactSelect, ErrorNotice, RelativeTime, Section, Spinner, TextField } from './ui.tsx';

type SearchFields = Required<Omit<DeliveryFilters, 'status'>>;
const NO_SEARCH: SearchFields = { operation: '', recordId: '', eventId: '', createdAfter: '', createdBefore: '' };

const PAGE_SIZE = 20;

/** The webhook's deliveries, newest first; the first page refreshes itself while the page is open. */
export function DeliveryLog({ webhookId, refreshToken }: { webhookId: string; refreshToken: number }) {
  const [status, setStatus] = useState<DeliveryStatus | ''>('');
  const [draft, setDraft] = useState<SearchFields>(NO_SEARCH);
  const [search, setSearch] = useState<SearchFields>(NO_SEARCH);
  const filters: DeliveryFilters = {
    status: status || undefined,
    ...search,
    createdAfter: localToIso(search.createdAfter),
    createdBefore: localToIso(search.createdBefore),
  };
  const searching = Object.values(search).some(Boolean);
  const firstPage = useLoad(() => fetchDeliveries(webhookId, { ...filters, first: PAGE_SIZE }), [webhookId, status, search, refreshToken]);
  const submitSearch = (event: FormEvent) => {
    event.preventDefault();
    setOlder(undefined);
    setSearch({ ...draft, operation: draft.operation.trim(), recordId: draft.recordId.trim(), eventId: draft.eventId.trim() });
  };
  const [older, setOlder] = useState<{ deliveries: Delivery[]; hasNextPage: boolean; endCursor: string | null } | undefined>();
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<string | undefined>();
  const [replaced, setReplaced] = useState<Record<string, Delivery>>({});

  const pending = firstPage.data?.deliveries.some((delivery) => delivery.status === 'PENDING') ?? false;
  useInterval(() => {
    setReplaced({});
    void firstPage.reload({ quiet: true });
  }, pending ? 1500 : 4000);

  const seen = new Set<string>();
  const deliveries = [...(firstPage.data?.deliveries ?? []), ...(older?.deliveries ?? [])]
    .filter((delivery) => !seen.has(delivery.id) && seen.add(delivery.id))
    .map((delivery) => replaced[delivery.id] ?? delivery);
  const hasNextPage = older ? older.hasNextPage : (firstPage.data?.hasNextPage ?? false);
  const endCursor = older ? older.endCursor : (firstPage.data?.endCursor ?? null);

  const loadMore = async () => {
    setLoadingMore(true);
    setMoreError(undefined);
    try {
      const page = await fetchDeliveries(webhookId, { ...filters, first: PAGE_SIZE, after: endCursor });
      setOlder((previous) => ({
        deliveries: [...(previous?.deliveries ?? []), ...page.deliveries],
        hasNextPage: page.hasNextPage,
        endCursor: page.endCursor,
      }));
    } catch (error) {
      setMoreError(errorMessage(error));
    } finally {
      setLoadingMore(false);
    }
  };

  return (
    <Section
      title="Delivery log"
      description={
        firstPage.data ? `${firstPage.data.totalCount} ${firstPage.data.totalCount === 1 ? 'delivery' : 'deliveries'}${status ? ` ${status.toLowerCase()}` : ''}. Newest first; refreshes by itself.` : 'Every event sent to this endpoint, with each attempt.'
      }
      actions={
        <>
          <CompactSelect
            label="Status"
            inline
            value={status}
            onChange={(value) => {
              setOlder(undefined);
              setStatus(value as DeliveryStatus | '');
            }}
            options={[
              { value: '', label: 'All' },
              { value: 'PENDING', label: 'Pending' },
              { value: 'SUCCEEDED', label: 'Succeeded' },
              { value: 'FAILED', label: 'Failed' },
            ]}
          />
          <button
            type="button"
            className="button"
            onClick={() => {
              setOlder(undefined);
              setReplaced({});
              void firstPage.reload({ quiet: true });
            }}
          >
            Refresh
          </button>
        </>
      }
    >
      <form className="delivery-search" onSubmit={submitSearch} aria-label="Find deliveries">
        <TextField label="Operation" placeholder="person.updated" value={draft.operation} onChange={(operation) => setDraft({ ...draft, operation })} />
        <TextField label="Record id" value={draft.recordId} onChange={(recordId) => setDraft({ ...draft, recordId })} />
        <TextField label="Event id" value={draft.eventId} onChange={(eventId) => setDraft({ ...draft, eventId })} />
        <TextField label="Created from" type="datetime-local" value={draft.createdAfter} onChange={(createdAfter) => setDraft({ ...draft, createdAfter })} />
        <TextField label="Created before" type="datetime-local" value={draft.createdBefore} onChange={(createdBefore) => setDraft({ ...draft, createdBefore })} />
        <div className="delivery-search-actions">
          <button type="submit" className="button">
            Find
          </button>
          {searching && (
            <button
              type="button"
              className="button"
              onClick={() => {
                setOlder(undefined);
                setDraft(NO_SEARCH);
                setSearch(NO_SEARCH);
              }}
            >
              Clear
            </button>
          )}
        </div>
      </form>
      {firstPage.error && <ErrorNotice message={firstPage.error} onRetry={() => void firstPage.reload()} />}
      {firstPage.loading && !firstPage.data && <Spinner label="Loading deliveries…" />}
      {firstPage.data && deliveries.length === 0 && (
        <div className="empty">
          {status || searching ? (
            <>
              <p>No deliveries match.</p>
              <p className="muted">Change or clear the filters to see more.</p>
            </>
          ) : (
            <>
              <p>No deliveries yet.</p>
              <p className="muted">Create, update or delete a record this webhook subscribes to and its delivery appears here. Test events are not kept.</p>
            </>
          )}
        </div>
      )}
      {deliveries.length > 0 && (
        <ol className="deliveries" aria-label="Deliveries">
          {deliveries.map((delivery) => (
            <DeliveryItem
              key={delivery.id}
              delivery={delivery}
              onResent={(updated) => {
                setReplaced((previous) => ({ ...previous, [updated.id]: updated }));
                void firstPage.reload({ quiet: true });
              }}
            />
          ))}
        </ol>
      )}
      {moreError && <ErrorNotice message={moreError} />}
      {hasNextPage && (
        <button type="button" className="button" onClick={() => void loadMore()} disabled={loadingMore}>
          {loadingMore ? 'Loading…' : 'Load older deliveries'}
        </button>
      )}
    </Section>
  );
}

function DeliveryItem({ delivery, onResent }: { delivery: Delivery; onResent: (delivery: Delivery) => void }) {
  const [open, setOpen] = useState(false);
  const [resending, setResending] = useState(false);
  const [resendError, setResendError] = useState<string | undefined>();
  const attempts = [...delivery.attempts].sort((a, b) => b.number - a.number);
  const latest = attempts[0];
  const detailsId = `delivery-${delivery.id}`;
  // PER_RECORD ordering: waiting for an earlier delivery of its record to settle (not sending, not a retry wait).
  const held = delivery.status === 'PENDING' && !delivery.sending && delivery.heldBehind !== null;

  const resend = async () => {
    setResending(true);
    setResendError(undefined);
    try {
      onResent(await redeliver(delivery.id));
    } catch (error) {
      setResendError(errorMessage(error));
    } finally {
      setResending(false);
    }
  };

  return (
    <li className="delivery" data-delivery-id={delivery.id} data-status={delivery.status} data-held={held || undefined}>
      <div className="delivery-summary">
        <button type="button" className="delivery-toggle" aria-expanded={open} aria-controls={detailsId} onClick={() => setOpen(!open)}>
          <span className="caret" aria-hidden="true">
            {open ? '▾' : '▸'}
          </span>
          <code className="operation">{delivery.operation}</code>
          <span className="muted small">
            <RelativeTime value={delivery.createdAt} />
          </span>
        </button>
        <div className="delivery-badges">
          {delivery.sending ? (
            <span className="badge badge-amber">Sending</span>
          ) : held ? (
            <span title="Waiting behind an earlier delivery of the same record">
              <Badge tone="blue">Held</Badge>
            </span>
          ) : (
            <DeliveryStatusBadge status={delivery.status} />
          )}
          {latest && <StatusCodeBadge statusCode={latest.statusCode} error={latest.error} />}
          <span className="muted small">
            {delivery.attemptCount} {delivery.attemptCount === 1 ? 'attempt' : 'attempts'}
          </span>
          <button type="button" className="button button-small" onClick={() => void resend()} disabled={resending} aria-label={`Resend ${delivery.operation} delivery`}>
            {resending ? 'Resending…' : 'Resend'}
          </button>
        </div>
      </div>
      {resendError && <ErrorNotice message={resendError} />}
      <div id={detailsId} className="delivery-details" hidden={!open}>
        {open && (
          <>
            <dl className="facts">
              <dt>Event id</dt>
              <dd>
                <code>{delivery.eventId}</code>
              </dd>
              <dt>Delivery id</dt>
              <dd>
                <code>{delivery.id}</code>
              </dd>
              {delivery.sending && (
                <>
                  <dt>Now</dt>
                  <dd>Sending: an attempt is under way.</dd>
                </>
              )}
              {held && (
                <>
                  <dt>Held</dt>
                  <dd>
                    <HeldBehind deliveryId={delivery.heldBehind!} />
                  </dd>
                </>
              )}
              {delivery.status === 'PENDING' && !delivery.sending && !held && (
                <>
                  <dt>Next attempt</dt>
                  <dd>
                    <RelativeTime value={delivery.nextAttemptAt} />
                  </dd>
                </>
              )}
            </dl>
            <h4>Request body</h4>
            {delivery.payload ? <pre className="code-block" tabIndex={0}>{prettyJson(delivery.payload)}</pre> : <p className="muted">Not kept.</p>}
            <h4>Attempts</h4>
            {attempts.length === 0 ? (
              <p className="muted">No attempt yet: it is queued.</p>
            ) : (
              <ol className="attempts">
                {attempts.map((attempt) => (
                  <AttemptView key={attempt.number} attempt={attempt} />
                ))}
              </ol>
            )}
          </>
        )}
      </div>
    </li>
  );
}

/** The delivery a held one waits for, shown on demand (it may be on another page of the log). */
function HeldBehind({ deliveryId }: { deliveryId: string }) {
  const [open, setOpen] = useState(false);
  const [state, setState] = useState<{ delivery?: Delivery | null; error?: string; loading?: boolean }>({});
  const regionId = `held-behind-${deliveryId}`;
  const toggle = async () => {
    const next = !open;
    setOpen(next);
    if (!next) return;
    setState({ loading: true });
    try {
      setState({ delivery: await fetchDelivery(deliveryId) });
    } catch (error) {
      setState({ error: errorMessage(error) });
    }
  };
  const holder = state.delivery;
  const last = holder ? [...holder.attempts].sort((a, b) => b.number - a.number)[0] : undefined;
  return (
    <>
      <p>
        Waiting behind delivery <code>{deliveryId}</code> of the same record (per-record ordering): it is sent once that one succeeds or
        finally fails.
      </p>
      <button type="button" className="button button-small" aria-expanded={open} aria-controls={regionId} onClick={() => void toggle()}>
        {open ? 'Hide the delivery it waits for' : 'Show the delivery it waits for'}
      </button>
      <div id={regionId} className="held-behind" hidden={!open}>
        {open && state.loading && <Spinner label="Loading delivery…" />}
        {open && state.error && <ErrorNotice message={state.error} />}
        {open && holder === null && <p className="muted">It is no longer in the log.</p>}
        {open && holder && (
          <dl className="facts" data-testid="held-behind">
            <dt>Event</dt>
            <dd>
              <code>{holder.operation}</code> · <RelativeTime value={holder.createdAt} />
            </dd>
            <dt>Status</dt>
            <dd>
              {holder.sending ? <Badge tone="amber">Sending</Badge> : <DeliveryStatusBadge status={holder.status} />}{' '}
              {holder.attemptCount} {holder.attemptCount === 1 ? 'attempt' : 'attempts'}
              {last && (
                <>
                  {' '}
                  · last <StatusCodeBadge statusCode={last.statusCode} error={last.error} />
                </>
              )}
            </dd>
            {holder.status === 'PENDING' && !holder.sending && (
              <>
                <dt>Next attempt</dt>
                <dd>
                  <RelativeTime value={holder.nextAttemptAt} />
                </dd>
              </>
            )}
          </dl>
        )}
      </div>
    </>
  );
}

export function AttemptView({ attempt, title }: { attempt: Attempt; title?: string }) {
  return (
    <li className="attempt" data-attempt={attempt.number}>
      <div className="attempt-header">
        <strong>{title ?? `Attempt ${attempt.number}`}</strong>
        <StatusCodeBadge statusCode={attempt.statusCode} error={attempt.error} />
        <span className="muted small">
          <RelativeTime value={attempt.startedAt} /> · {formatDuration(attempt.durationMs)}
        </span>
      </div>
      {attempt.error && <p className="attempt-error">{attempt.error}</p>}
      <details>
        <summary>Request headers</summary>
        <HeaderList headers={attempt.requestHeaders} />
      </details>
      <div className="response">
        <span className="label">Response body</span>
        {attempt.responseBody ? <pre className="code-block" tabIndex={0}>{prettyJson(attempt.responseBody)}</pre> : <p className="muted">Empty.</p>}
      </div>
    </li>
  );
}

function HeaderList({ headers }: { headers: HttpHeader[] }) {
  if (headers.length === 0) return <p className="muted">Not recorded.</p>;
  return (
    <dl className="headers">
      {headers.map((header) => (
        <div key={header.name}>
          <dt>{header.name}</dt>
          <dd>
            <code>{header.value}</code>
          </dd>
        </div>
      ))}
    </dl>
  );
}
