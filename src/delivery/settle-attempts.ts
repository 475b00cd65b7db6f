import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Backoff } from '../domain/backoff.ts';
import { systemClock } from '../domain/clock.ts';
import { storableText } from '../domain/stored-text.ts';
import type { DB } from '../storage/schema.ts';
import { settleAttempts, type SettledAttempt } from '../storage/queue/index.ts';

/** Rounds of storing again after the database itself failed (it went away, a deadlock), with pauses between. */
const MAX_RETRIES = 3;
/** Pauses of 200, 400 and 800 ms. */
const RETRY_PAUSE_BASE_MS = 100;

/**
 * SQLSTATE classes that say the database could not run the statement at all, whatever rows it carried:
 * connection (08), insufficient resources (53), operator intervention such as a shutdown (57), system error (58),
 * transaction rollback such as a deadlock (40). Any other error the database reports may come from one row.
 */
const UNAVAILABLE_CLASSES = new Set(['08', '40', '53', '57', '58']);

/** True when the database refused the statement for what it carried (a row's values), not because it is away. */
export function isRefusedByDatabase(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !UNAVAILABLE_CLASSES.has(code.slice(0, 2));
}

/** The attempt without what the receiver or the network said: it still counts toward the retry schedule. */
function withoutDetail(attempt: SettledAttempt, refusal: unknown): SettledAttempt {
  const reason = refusal instanceof Error ? refusal.message : String(refusal);
  return {
    ...attempt,
    responseBody: null,
    requestHeaders: null,
    error: storableText(`the attempt's detail could not be stored (${reason})`, 500),
  };
}

export interface SettleOptions {
  log: Logger;
  /** Checked before each pause: a stopping worker does not wait to store again. */
  stopping?: () => boolean;
}

/**
 * Stores finished attempts and moves their deliveries on; returns the ids settled. One attempt that the database
 * refuses never holds back the others: a refused batch is stored again row by row, and a refused row once more
 * without its detail (answer, error text, request headers), so that the attempt still counts toward the retry
 * schedule. While the database itself fails, what is not stored yet is tried again a few times; what is still not
 * stored then keeps its lease until it runs out, and is sent again (at least once).
 */
export async function settleWithFallbacks(
  db: Kysely<DB>,
  attempts: SettledAttempt[],
  now: Date,
  options: SettleOptions,
): Promise<Set<string>> {
  const { log } = options;
  const settled = new Set<string>();
  // Not stored yet; row by row, each leaves the front once stored.
  const remaining = [...attempts];
  let oneByOne = false;
  const backoff = new Backoff(systemClock, RETRY_PAUSE_BASE_MS);
  for (let retries = 0; ; retries++) {
    try {
      if (!oneByOne) {
        try {
          for (const id of await settleAttempts(db, remaining, now)) settled.add(id);
          return settled;
        } catch (error) {
          if (!isRefusedByDatabase(error)) throw error;
          log.warn({ err: error, count: remaining.length }, 'a batch of delivery attempts was refused; storing them one by one');
          oneByOne = true;
        }
      }
      while (remaining.length > 0) {
        for (const id of await settleOne(db, remaining[0], now, log)) settled.add(id);
        remaining.shift();
      }
      return settled;
    } catch (error) {
      if (retries >= MAX_RETRIES || options.stopping?.()) {
        log.error({ err: error, count: remaining.length }, 'storing delivery attempts failed');
        return settled;
      }
      log.warn({ err: error, count: remaining.length }, 'storing delivery attempts failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, backoff.failed()));
    }
  }
}

/** Stores one attempt, without its detail if the database refuses it as it is. */
async function settleOne(db: Kysely<DB>, attempt: SettledAttempt, now: Date, log: Logger): Promise<Set<string>> {
  try {
    return await settleAttempts(db, [attempt], now);
  } catch (error) {
    if (!isRefusedByDatabase(error)) throw error;
    log.error({ err: error, deliveryId: attempt.deliveryId }, 'a delivery attempt was refused; storing it without its detail');
    try {
      return await settleAttempts(db, [withoutDetail(attempt, error)], now);
    } catch (again) {
      if (!isRefusedByDatabase(again)) throw again;
      // Its lease runs out and it is sent again; the others were not held back.
      log.error({ err: again, deliveryId: attempt.deliveryId }, 'a delivery attempt could not be stored even without its detail');
      return new Set();
    }
  }
}
