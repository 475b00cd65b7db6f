import { buildPayload, serialisePayload, type PayloadEvent } from '../domain/payload.ts';
import { signatureHeaders } from '../domain/signing.ts';
import type { SecretBox } from '../webhooks/secret-box.ts';
import { openSigningSecrets, type StoredSecrets } from '../webhooks/secrets.ts';

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

/**
 * The body and signed headers of one POST of `event` to a webhook, at `now`: what every delivery attempt and every
 * test send puts on the wire, so the two can never differ.
 */
export function buildSignedRequest(
  event: PayloadEvent,
  webhook: { id: string } & StoredSecrets,
  secretBox: SecretBox,
  now: Date,
  version: string,
): SignedRequest {
  const body = serialisePayload(buildPayload(event, webhook.id));
  const headers = signatureHeaders({
    secrets: openSigningSecrets(secretBox, webhook, now),
    eventId: event.id,
    timestamp: Math.floor(now.getTime() / 1000),
    body,
    version,
  });
  return { body, headers };
}
