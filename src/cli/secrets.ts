import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import type { Database } from '../storage/database.ts';
import { generateEncryptionKey, KEY_FILE, NEXT_KEY_FILE, pendingNextKey, resolveEncryptionKey, writeKeyFile } from '../webhooks/encryption-key.ts';
import { resealSecrets, type SealReport } from '../webhooks/seal-at-rest.ts';
import { createSecretBox } from '../webhooks/secret-box.ts';

const MIN_KEY_LENGTH = 16;

export interface ResealOutcome {
  report: SealReport;
  /** What the operator must do or know now. */
  message: string;
}

/**
 * `switchboard secrets reseal`: seals every stored webhook secret under a new key. With the generated key file the
 * new key is first written to DATA_DIR/switchboard.key.next and becomes switchboard.key only once every row is
 * sealed with it; a run that stops half way leaves that file, and running the command again finishes the job
 * (rows already sealed with the new key are recognised and kept). With SWITCHBOARD_ENCRYPTION_KEY the new key
 * must be given, and the operator sets the variable to it afterwards.
 */
export async function resealWithNewKey(config: Config, database: Database, givenKey: string | undefined): Promise<ResealOutcome> {
  if (givenKey !== undefined && givenKey.trim().length < MIN_KEY_LENGTH) {
    throw new Error(`--new-key: must be at least ${MIN_KEY_LENGTH} characters (generate one with: openssl rand -base64 32)`);
  }
  const current = resolveEncryptionKey(config);
  let newKey: string;
  let nextFile: string | undefined;
  if (current.source === 'SWITCHBOARD_ENCRYPTION_KEY') {
    if (!givenKey) {
      throw new Error(
        'SWITCHBOARD_ENCRYPTION_KEY is set, so give the new key: --new-key KEY (or SWITCHBOARD_NEW_ENCRYPTION_KEY, kept out of the process list); set SWITCHBOARD_ENCRYPTION_KEY to it afterwards',
      );
    }
    newKey = givenKey.trim();
  } else {
    nextFile = path.join(config.dataDir, NEXT_KEY_FILE);
    const pending = pendingNextKey(config.dataDir);
    if (pending !== undefined && givenKey !== undefined && givenKey.trim() !== pending) {
      throw new Error(
        `an interrupted reseal is moving to another key (${nextFile}): run the command again without --new-key to finish it first`,
      );
    }
    newKey = pending ?? givenKey?.trim() ?? generateEncryptionKey();
    if (pending === undefined && !writeKeyFile(nextFile, newKey)) throw new Error(`${nextFile} appeared meanwhile: is another reseal running?`);
  }
  if (newKey === current.key) throw new Error('--new-key: is the key already in use; give another one');

  const report = await resealSecrets(database.db, createSecretBox(current.key), createSecretBox(newKey));
  if (report.unopenable > 0) {
    throw new Error(
      `${report.unopenable} webhook(s) hold a secret that neither the current key (${current.source}) nor the new one opens; ` +
        `the other ${report.rewritten + report.unchanged} are sealed with the new key. Configure the key those were sealed with and run the command again.`,
    );
  }
  const counts = `Resealed ${report.rewritten} webhook(s) under the new key (${report.unchanged} already were).`;
  if (nextFile) {
    // The switch to the new key is this one rename: before it the old key file stays, after it the new one.
    fs.renameSync(nextFile, path.join(config.dataDir, KEY_FILE));
    return { report, message: `${counts} ${path.join(config.dataDir, KEY_FILE)} now holds the new key; the old one opens nothing.` };
  }
  return { report, message: `${counts} Set SWITCHBOARD_ENCRYPTION_KEY to the new key before starting Switchboard again.` };
}
