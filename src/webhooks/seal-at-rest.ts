import type { Kysely } from 'kysely';
import type { DB } from '../storage/schema.ts';
import { findStoredSecrets, listStoredSecrets, replaceStoredSecrets, type StoredSecretRow } from '../storage/webhooks.ts';
import { isSealed, type SecretBox } from './secret-box.ts';

const PAGE = 500;
/** A row changed by a rotation between our read and our write is read again; this many times at most. */
const MAX_RACES = 5;

export interface SealReport {
  /** Webhook rows whose stored secrets were rewritten. */
  rewritten: number;
  /** Rows already as wanted. */
  unchanged: number;
  /** Rows holding a secret that no configured key opens (left as they are). */
  unopenable: number;
}

/** What a stored secret becomes: a new stored form, or null to keep it. Throws when it cannot be opened. */
type Transform = (stored: string) => string | null;

async function rewriteRow(db: Kysely<DB>, row: StoredSecretRow, transform: Transform): Promise<'rewritten' | 'unchanged' | 'unopenable'> {
  let current: StoredSecretRow | undefined = row;
  for (let race = 0; current && race <= MAX_RACES; race++) {
    let secret: string | null;
    let previousSecret: string | null;
    try {
      secret = transform(current.secret);
      previousSecret = current.previousSecret === null ? null : transform(current.previousSecret);
    } catch {
      return 'unopenable';
    }
    if (secret === null && previousSecret === null) return 'unchanged';
    // Both columns in one statement: a row is never left half under one key and half under another.
    const next = { secret: secret ?? current.secret, previousSecret: previousSecret ?? current.previousSecret };
    if (await replaceStoredSecrets(db, current, next)) return 'rewritten';
    current = await findStoredSecrets(db, row.id);
  }
  return current ? 'unopenable' : 'unchanged';
}

async function rewriteAll(db: Kysely<DB>, transform: Transform): Promise<SealReport> {
  const report: SealReport = { rewritten: 0, unchanged: 0, unopenable: 0 };
  let after: string | null = null;
  for (;;) {
    const page = await listStoredSecrets(db, after, PAGE);
    for (const row of page) report[await rewriteRow(db, row, transform)]++;
    if (page.length < PAGE) return report;
    after = page[page.length - 1]!.id;
  }
}

/**
 * Counts the stored secrets that are sealed but do not open with this box (read only): with a wrong key, none
 * may be written, or plain rows would be sealed under it.
 */
export async function countUnopenableSecrets(db: Kysely<DB>, box: SecretBox): Promise<number> {
  let unopenable = 0;
  let after: string | null = null;
  for (;;) {
    const page = await listStoredSecrets(db, after, PAGE);
    for (const row of page) {
      try {
        for (const stored of [row.secret, row.previousSecret]) if (stored !== null && isSealed(stored)) box.open(stored);
      } catch {
        unopenable++;
      }
    }
    if (page.length < PAGE) return unopenable;
    after = page[page.length - 1]!.id;
  }
}

/** Seals every secret still stored in plain text (rows written before encryption was on); sealed ones are kept. */
export function sealPlainSecrets(db: Kysely<DB>, box: SecretBox): Promise<SealReport> {
  return rewriteAll(db, (stored) => (isSealed(stored) ? null : box.seal(stored)));
}

/**
 * Seals every stored secret (current and previous) under `to`, opening each with `to` if it already is (a rerun
 * after a crash), else with `from`. One compare-and-set UPDATE per row, so it is safe to stop at any point and
 * run again, and a secret rotated meanwhile is read again rather than overwritten.
 */
export function resealSecrets(db: Kysely<DB>, from: SecretBox, to: SecretBox): Promise<SealReport> {
  return rewriteAll(db, (stored) => {
    if (!isSealed(stored)) return to.seal(stored);
    try {
      to.open(stored);
      return null;
    } catch {
      return to.seal(from.open(stored));
    }
  });
}
