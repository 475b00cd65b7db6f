import type { Logger } from 'pino';
import { classifyAttempt, type AttemptAnswer } from '../domain/attempt-outcome.ts';
import type { Clock } from '../domain/clock.ts';
import { ERROR_TEXT_LIMIT, storableText } from '../domain/stored-text.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { ClaimedDelivery } from '../storage/queue/index.ts';
import type { SecretBox } from '../webhooks/secret-box.ts';
import type { FailureSummary } from './failure-summary.ts';
import type { Sender } from './sender.ts';
import type { FinishedAttempt } from './settler.ts';
import { buildSignedRequest } from './signed-request.ts';

export interface AttemptDeps {
  sender: Sender;
  secretBox: SecretBox;
  clock: Clock;
  log: Logger;
  /** Failed attempts are summarised per endpoint rather than logged one by one. */
  failures: FailureSummary;
  metrics?: Metrics;
  retryScheduleMs: readonly number[];
  version: string;
}

/**
 * Makes one attempt of a claimed delivery: signs, POSTs, classifies the answer. Resolves with what to settle, or
 * null when the worker's stop cut the request (the delivery goes back to the queue unsettled).
 */
export async function attemptDelivery(delivery: ClaimedDelivery, deps: AttemptDeps): Promise<FinishedAttempt | null> {
  const number = delivery.attemptCount + 1;
  const startedAt = deps.clock.now();
  let answer: AttemptAnswer;
  let durationMs: number;
  let responseBody: string | null = null;
  let requestHeaders: Record<string, string> | null = null;
  try {
    const event = {
      id: delivery.eventId,
      workspaceId: delivery.workspaceId,
      operation: delivery.operation,
      createdAt: delivery.event.createdAt,
      record: delivery.event.record,
      previousRecord: delivery.event.previousRecord,
      updatedFields: delivery.event.updatedFields,
    };
    const request = buildSignedRequest(event, { id: delivery.webhookId, ...delivery.webhook }, deps.secretBox, startedAt, deps.version);
    requestHeaders = request.headers;
    const sent = await deps.sender.send({ url: delivery.webhook.targetUrl, headers: request.headers, body: request.body });
    if (sent.abortedByStop) return null;
    answer = sent;
    durationMs = sent.durationMs;
    responseBody = sent.responseBody;
    deps.metrics?.attemptFinished(sent.statusCode !== null && sent.statusCode >= 200 && sent.statusCode < 300, sent.durationMs);
  } catch (error) {
    // Not the receiver's fault (e.g. a secret that cannot be opened): stored as a failed attempt.
    deps.log.error({ err: error, webhookId: delivery.webhookId, deliveryId: delivery.id }, 'preparing a delivery failed');
    answer = { statusCode: null, error: storableText(error instanceof Error ? error.message : String(error), ERROR_TEXT_LIMIT) };
    durationMs = deps.clock.now().getTime() - startedAt.getTime();
    requestHeaders = null;
  }
  const outcome = classifyAttempt(answer, number, deps.clock.now(), deps.retryScheduleMs);
  if (outcome.status !== 'SUCCEEDED') {
    const reason = answer.error ?? `HTTP ${answer.statusCode}`;
    deps.failures.record(delivery.webhook.targetUrl, delivery.webhookId, reason);
    deps.log.debug(
      { webhookId: delivery.webhookId, deliveryId: delivery.id, attempt: number, reason, nextAttemptAt: outcome.nextAttemptAt?.toISOString() ?? null },
      'delivery attempt failed',
    );
  }
  return {
    webhookId: delivery.webhookId,
    gone: outcome.gone,
    ordered: delivery.webhook.ordered,
    attempt: {
      deliveryId: delivery.id,
      leaseToken: delivery.leaseToken,
      number,
      startedAt,
      durationMs,
      statusCode: answer.statusCode,
      responseBody,
      error: outcome.error,
      requestHeaders,
      status: outcome.status,
      nextAttemptAt: outcome.nextAttemptAt,
    },
  };
}
