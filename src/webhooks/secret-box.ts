import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const SEALED_PREFIX = 'enc:v1:';

/** Seals webhook secrets at rest. Without an encryption key it stores them as given. */
export interface SecretBox {
  seal(plain: string): string;
  /** Opens a stored secret, sealed or plain (secrets stored before a key was set stay readable). */
  open(stored: string): string;
}

/** AES-256-GCM with a key derived from SWITCHBOARD_ENCRYPTION_KEY; the format is `enc:v1:<iv>.<tag>.<ciphertext>` (base64url). */
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
      if (!stored.startsWith(SEALED_PREFIX)) return stored;
      if (!key) throw new Error('a webhook secret is encrypted but SWITCHBOARD_ENCRYPTION_KEY is not set');
      const [iv, tag, ciphertext] = stored.slice(SEALED_PREFIX.length).split('.');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      try {
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new Error('a webhook secret could not be decrypted: SWITCHBOARD_ENCRYPTION_KEY differs from the one it was sealed with');
      }
    },
  };
}
