import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { SwitchboardError } from '../domain/errors.ts';

const SEALED_PREFIX = 'enc:v1:';

/** Seals webhook secrets at rest. Without an encryption key it stores them as given. */
export interface SecretBox {
  seal(plain: string): string;
  /**
   * Opens a stored secret, sealed or plain (rows written before a key existed stay readable until sealed).
   * A sealed secret this box cannot open throws SERVICE_UNAVAILABLE naming the problem: the server's key is
   * wrong or missing, which no caller can fix and no retry will.
   */
  open(stored: string): string;
}

/** Whether a stored secret is sealed (`enc:v1:…`) rather than plain. */
export function isSealed(stored: string): boolean {
  return stored.startsWith(SEALED_PREFIX);
}

function unopenable(reason: string): SwitchboardError {
  return new SwitchboardError(
    'SERVICE_UNAVAILABLE',
    `a webhook secret cannot be opened: ${reason}. Configure the key it was sealed with (SWITCHBOARD_ENCRYPTION_KEY or DATA_DIR/switchboard.key; see README "Secrets at rest")`,
  );
}

/** AES-256-GCM with a key derived from the encryption key; the format is `enc:v1:<iv>.<tag>.<ciphertext>` (base64url). */
export function createSecretBox(encryptionKey: string | undefined): SecretBox {
  const key = encryptionKey ? createHash('sha256').update(encryptionKey).digest() : undefined;
  return {
    seal(plain) {
      if (!key) return plain;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `${SEALED_PREFIX}${iv.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}.${ciphertext.toString('base64url')}`;
    },
    open(stored) {
      if (!isSealed(stored)) return stored;
      if (!key) throw unopenable('it is encrypted and no encryption key is configured');
      const [iv, tag, ciphertext] = stored.slice(SEALED_PREFIX.length).split('.');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv ?? '', 'base64url'));
        decipher.setAuthTag(Buffer.from(tag ?? '', 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext ?? '', 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw unopenable('it was sealed with another encryption key than the one configured');
      }
    },
  };
}

/**
 * A box that remembers what it opened, keyed by the stored (sealed) text: every attempt opens its webhook's
 * secrets, and an AES-GCM open per attempt was measurable on the delivery path. A rotation stores new sealed
 * text, so it is a new key here and the old entry just ages out. The plain secrets stay in this process's
 * memory only (never logged, never written). At most `maxEntries` are kept; past that the map starts over.
 */
export function cachingSecretBox(box: SecretBox, maxEntries = 10_000): SecretBox {
  const opened = new Map<string, string>();
  return {
    seal: (plain) => box.seal(plain),
    open(stored) {
      if (!isSealed(stored)) return stored;
      let plain = opened.get(stored);
      if (plain === undefined) {
        // A secret that does not open throws here and is not remembered: the next attempt reports it again.
        plain = box.open(stored);
        if (opened.size >= maxEntries) opened.clear();
        opened.set(stored, plain);
      }
      return plain;
    },
  };
}
