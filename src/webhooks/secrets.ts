import { randomBytes } from 'node:crypto';
import { invalidInput } from '../domain/errors.ts';
import { requireStorableText } from '../domain/stored-text.ts';
import type { SecretBox } from './secret-box.ts';

/** After a rotation the previous secret still signs (a second signature) for this long, so receivers can switch over. */
export const ROTATION_GRACE_PERIOD_MS = 24 * 60 * 60 * 1000;

export const STANDARD_SECRET_PREFIX = 'whsec_';
export const MIN_GIVEN_SECRET_LENGTH = 16;
export const MAX_GIVEN_SECRET_LENGTH = 512;
const MIN_STANDARD_KEY_BYTES = 16;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** `whsec_` + base64 of 32 random bytes: the Standard Webhooks format, also usable as Twenty's plain secret. */
export function generateWebhookSecret(): string {
  return `${STANDARD_SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/**
 * Checks a secret the client chose. Any printable string of 16 to 512 characters is accepted, because
 * X-Twenty-Signature uses the secret string itself. A `whsec_` secret must carry valid base64 of at
 * least 16 bytes, since Standard Webhooks verifiers decode it; any other secret signs `webhook-signature`
 * with its raw UTF-8 bytes (standardWebhookKey in domain/signing.ts; verifiers use `{ format: 'raw' }`).
 */
export function validateGivenSecret(secret: string, field = 'secret'): string {
  if (secret.length < MIN_GIVEN_SECRET_LENGTH) throw invalidInput(field, `must be at least ${MIN_GIVEN_SECRET_LENGTH} characters`);
  if (secret.length > MAX_GIVEN_SECRET_LENGTH) throw invalidInput(field, `must be at most ${MAX_GIVEN_SECRET_LENGTH} characters`);
  if (/[\s\p{Cc}]/u.test(secret)) throw invalidInput(field, 'must not contain spaces or control characters');
  requireStorableText(secret, field);
  if (secret.startsWith(STANDARD_SECRET_PREFIX)) {
    const encoded = secret.slice(STANDARD_SECRET_PREFIX.length);
    if (!BASE64.test(encoded) || Buffer.from(encoded, 'base64').length < MIN_STANDARD_KEY_BYTES) {
      throw invalidInput(field, `a secret starting with whsec_ must continue with the base64 of at least ${MIN_STANDARD_KEY_BYTES} bytes`);
    }
  }
  return secret;
}

/** The secret columns of a webhook row, as stored (sealed). */
export interface StoredSecrets {
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
}

/**
 * The plain secrets to sign a delivery with at `now`: the current one first, then the previous one while
 * its rotation grace period lasts. Sign with each and send every signature.
 */
export function openSigningSecrets(box: SecretBox, stored: StoredSecrets, now: Date): string[] {
  const secrets = [box.open(stored.secret)];
  if (stored.previousSecret && stored.previousSecretExpiresAt && stored.previousSecretExpiresAt.getTime() > now.getTime()) {
    secrets.push(box.open(stored.previousSecret));
  }
  return secrets;
}
