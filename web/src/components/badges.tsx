import type { DeliveryStatus, LastDelivery, WebhookStatus } from '../queries.ts';
import { describeOperation } from '../operations.ts';
import { formatDateTime } from '../format.ts';
import { Badge } from './ui.tsx';

export function WebhookStatusBadge({ status }: { status: WebhookStatus }) {
  return status === 'ACTIVE' ? <Badge tone="green">Active</Badge> : <Badge tone="gray">Disabled</Badge>;
}

export function DeliveryStatusBadge({ status }: { status: DeliveryStatus }) {
  if (status === 'SUCCEEDED') return <Badge tone="green">Succeeded</Badge>;
  if (status === 'FAILED') return <Badge tone="red">Failed</Badge>;
  return <Badge tone="amber">Pending</Badge>;
}

export function StatusCodeBadge({ statusCode, error }: { statusCode: number | null; error?: string | null }) {
  if (statusCode === null) return <Badge tone="red">{error ? 'No response' : '—'}</Badge>;
  return <Badge tone={statusCode >= 200 && statusCode < 300 ? 'green' : 'red'}>HTTP {statusCode}</Badge>;
}

export function OperationChips({ operations }: { operations: string[] }) {
  return (
    <ul className="chips" aria-label="Events">
      {operations.map((operation) => (
        <li key={operation} className="chip" title={operation}>
          {describeOperation(operation)}
        </li>
      ))}
    </ul>
  );
}

export function LastDeliverySummary({ delivery }: { delivery: LastDelivery | null | undefined }) {
  if (!delivery) return <span className="muted">No deliveries yet</span>;
  const last = [...delivery.attempts].sort((a, b) => b.number - a.number)[0];
  return (
    <span className="last-delivery">
      <DeliveryStatusBadge status={delivery.status} />
      {last && <StatusCodeBadge statusCode={last.statusCode} error={last.error} />}
      <span className="muted small">{formatDateTime(delivery.lastAttemptAt ?? delivery.createdAt)}</span>
    </span>
  );
}
