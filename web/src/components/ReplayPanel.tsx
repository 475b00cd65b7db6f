import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { ApiError, errorMessage } from '../api.ts';
import { formatDateTime, isoToLocal, localToIso } from '../format.ts';
import { replayWebhookEvents, type ReplayResult, type Webhook } from '../queries.ts';
import { ErrorNotice, Section } from './ui.tsx';

const DAY_MS = 86_400_000;

/** A labelled datetime-local input, to the second. */
function InstantField({ label, value, onChange, hint, error }: { label: string; value: string; onChange: (value: string) => void; hint: string; error?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="datetime-local"
        step={1}
        className={`input${error ? ' input-invalid' : ''}`}
        value={value}
        onChange={(event) => onChange(event.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-hint${error ? ` ${id}-error` : ''}`}
      />
      <p className="hint" id={`${id}-hint`}>
        {hint}
      </p>
      {error && (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

/**
 * Replays stored events of a time window to this webhook (replayWebhookEvents): one new delivery for each event it
 * matches now, with the original event id, oldest first. For what was written while it was disabled, or lost by
 * the receiver.
 */
export function ReplayPanel({ webhook, onQueued, since: givenSince, focusOnOpen = false, onFocused }: {
  webhook: Webhook;
  onQueued: () => void;
  /** Where the window starts when the panel opens (ISO); else when the webhook was disabled, or a day ago. */
  since?: string;
  /** Brings the panel into view and focuses its first field, for a panel opened from elsewhere on the page. */
  focusOnOpen?: boolean;
  onFocused?: () => void;
}) {
  const [since, setSince] = useState(() => isoToLocal(givenSince ?? webhook.disabledAt ?? Date.now() - DAY_MS));
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    if (!focusOnOpen) return;
    formRef.current?.scrollIntoView({ block: 'center' });
    formRef.current?.querySelector('input')?.focus({ preventScroll: true });
    onFocused?.();
    // Once, when the panel opens: onFocused is not a reason to focus again.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [focusOnOpen]);
  const [until, setUntil] = useState('');
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<{ since?: string; until?: string; form?: string }>({});
  const [result, setResult] = useState<{ asked: string | null; answer: ReplayResult } | undefined>();
  const disabled = webhook.status !== 'ACTIVE';

  const replay = async (sinceIso: string, untilIso: string | null) => {
    if (!sinceIso) {
      setErrors({ since: 'Choose when the window starts.' });
      return;
    }
    if (untilIso && untilIso <= sinceIso) {
      setErrors({ until: 'Choose an end later than the start, or leave it empty for now.' });
      return;
    }
    setBusy(true);
    setErrors({});
    setResult(undefined);
    try {
      const answer = await replayWebhookEvents(webhook.id, sinceIso, untilIso);
      setResult({ asked: untilIso, answer });
      onQueued();
    } catch (error) {
      const field = error instanceof ApiError ? error.field : undefined;
      setErrors(field === 'since' || field === 'until' ? { [field]: errorMessage(error) } : { form: errorMessage(error) });
    } finally {
      setBusy(false);
    }
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void replay(localToIso(since), localToIso(until) || null);
  };
  // The answer's end is earlier than asked when a bound (events per call) stopped it.
  const stoppedEarly = result && result.asked !== null && Date.parse(result.answer.until) < Date.parse(result.asked);

  return (
    <Section
      title="Replay events"
      description="Sends again every stored event of a time window that this webhook matches now (its events and filter), with the original event id, oldest first: for events written while it was disabled, or lost by the receiver."
    >
      {disabled && <p className="notice notice-warning">Enable the webhook to replay events to it (the window set here stays).</p>}
      <form ref={formRef} className="inline-form replay-form" onSubmit={submit} aria-label="Replay events">
        <InstantField label="From" value={since} onChange={setSince} hint="Events written at or after this time (your time zone)." error={errors.since} />
        <InstantField label="Until" value={until} onChange={setUntil} hint="Events written before this time; empty: until now." error={errors.until} />
        <button type="submit" className="button button-primary" disabled={busy || disabled}>
          {busy ? 'Replaying…' : 'Replay events'}
        </button>
      </form>
      <div aria-live="polite" data-testid="replay-result">
        {errors.form && <ErrorNotice message={errors.form} />}
        {result && (
          <div className="notice notice-info">
            <p>
              <strong>
                Queued {result.answer.queued} {result.answer.queued === 1 ? 'delivery' : 'deliveries'}
              </strong>{' '}
              for events from {formatDateTime(result.answer.since)} to {formatDateTime(result.answer.until)}. They appear in the delivery log.
            </p>
            {result.answer.retainedSince && (
              <p data-testid="replay-retention">
                Events before {formatDateTime(result.answer.retainedSince)} are no longer kept (the retention period,{' '}
                <code>SWITCHBOARD_RETENTION</code>), so the start of this window could not be replayed.
              </p>
            )}
            {stoppedEarly && (
              <p>
                It stopped at {formatDateTime(result.answer.until)}: one call reads a bounded number of events.{' '}
                <button
                  type="button"
                  className="button button-small"
                  onClick={() => {
                    // From the exact instant it stopped at, so no event is replayed twice.
                    setSince(isoToLocal(result.answer.until));
                    void replay(result.answer.until, result.asked);
                  }}
                >
                  Replay the rest
                </button>
              </p>
            )}
          </div>
        )}
      </div>
    </Section>
  );
}
