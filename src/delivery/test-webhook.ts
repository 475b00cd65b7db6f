import { randomUUID } from 'node:crypto';
import type { Config } from '../config.ts';
import type { Clock } from '../domain/clock.ts';
import { sampleEvent, sampleOperation } from '../domain/sample-events.ts';
import type { AttemptRow } from '../storage/delivery-log.ts';
import type { WebhookRow } from '../storage/webhooks.ts';
import { createSecretBox } from '../webhooks/secret-box.ts';
import { Sender } from './sender.ts';
import { buildSignedRequest } from './signed-request.ts';
import { SWITCHBOARD_VERSION } from '../version.ts';

/** The outcome of a test send, shaped like a stored delivery attempt (which it is not). */
export interface TestAttempt extends Omit<AttemptRow, 'id' | 'deliveryId' | 'requestHeaders'> {
  requestHeaders: Record<string, string>;
  operation: string;
  payload: string;
}

export interface TestWebhookSender {
  /** Signs and POSTs a sample event of `operation` to the webhook now, exactly as a real delivery would be. */
  send(webhook: WebhookRow, operation: string | null | undefined): Promise<TestAttempt>;
  close(): Promise<void>;
}

/** Test events go through the same sender and signing as deliveries, but leave no event or delivery behind. */
export function createTestWebhookSender(config: Config, clock: Clock): TestWebhookSender {
  const sender = new Sender({
    timeoutMs: config.deliveryTimeoutMs,
    allowPrivateTargets: config.allowPrivateTargets,
    requireHttps: config.production,
    connectionsPerOrigin: 2,
  });
  const secretBox = createSecretBox(config.encryptionKey);
  return {
    async send(webhook, requested) {
      const operation = sampleOperation(requested, webhook.operations);
      const now = clock.now();
      const event = sampleEvent(operation, { eventId: randomUUID(), recordId: randomUUID(), workspaceId: webhook.workspaceId }, now);
      const { body, headers } = buildSignedRequest(event, webhook, secretBox, now, SWITCHBOARD_VERSION);
      const result = await sender.send({ url: webhook.targetUrl, headers, body });
      return {
        number: 1,
        startedAt: now,
        durationMs: Math.round(result.durationMs),
        statusCode: result.statusCode,
        responseBody: result.responseBody,
        error: result.error,
        requestHeaders: headers,
        operation,
        payload: body,
      };
    },
    close: () => sender.close(),
  };
}
