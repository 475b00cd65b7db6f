import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';

/** The generated key, in DATA_DIR, owner-only. */
export const KEY_FILE = 'switchboard.key';
/** The key a `secrets reseal` is moving to, kept until every row is sealed with it, so a crashed run resumes. */
export const NEXT_KEY_FILE = 'switchboard.key.next';

export interface EncryptionKey {
  key: string;
  /** Where it came from, for messages: the variable, or the key file's path. */
  source: 'SWITCHBOARD_ENCRYPTION_KEY' | 'key file';
  /** The key file (source 'key file'). */
  file: string | undefined;
  /** Whether this start generated the key file. */
  created: boolean;
}

/** A key: 32 random bytes, base64url. */
export function generateEncryptionKey(): string {
  return randomBytes(32).toString('base64url');
}

function readKeyFile(file: string): string {
  const mode = fs.statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new Error(`${file} is readable by other users (mode ${mode.toString(8)}): run chmod 600 ${file}; it holds the key of every webhook secret`);
  }
  const key = fs.readFileSync(file, 'utf8').trim();
  if (key.length < 16) throw new Error(`${file} does not hold a key (expected at least 16 characters)`);
  return key;
}

/**
 * Writes a key file readable by its owner only, complete or not at all: written under a temporary name,
 * then linked into place (which fails if the file exists, so two processes starting at once keep one key).
 * Answers false when the file already existed.
 */
export function writeKeyFile(file: string, key: string, options: { replace?: boolean } = {}): boolean {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(temporary, `${key}\n`, { mode: 0o600, flag: 'wx' });
  try {
    if (options.replace) {
      fs.renameSync(temporary, file);
      return true;
    }
    fs.linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/** DATA_DIR, created owner-only; an existing one is narrowed to owner-only where this user may. */
function ensurePrivateFolder(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    fs.chmodSync(dataDir, 0o700);
  } catch {
    // Not ours (a mounted volume): the key file's own mode still keeps it owner-only.
  }
}

/**
 * The key webhook secrets are sealed with: SWITCHBOARD_ENCRYPTION_KEY when set, otherwise DATA_DIR/switchboard.key,
 * generated on first start. With PostgreSQL in production the variable is required: the processes sharing the
 * database run in different containers, and a key generated into each one's folder would differ.
 */
export function resolveEncryptionKey(config: Pick<Config, 'encryptionKey' | 'dataDir' | 'production' | 'databaseUrl'>): EncryptionKey {
  if (config.encryptionKey) return { key: config.encryptionKey, source: 'SWITCHBOARD_ENCRYPTION_KEY', file: undefined, created: false };
  if (config.production && config.databaseUrl) {
    throw new Error(
      'SWITCHBOARD_ENCRYPTION_KEY: required with PostgreSQL when NODE_ENV=production, so that every process sharing the ' +
        'database seals and opens webhook secrets with the same key (generate one with: openssl rand -base64 32)',
    );
  }
  ensurePrivateFolder(config.dataDir);
  const file = path.join(config.dataDir, KEY_FILE);
  const created = !fs.existsSync(file) && writeKeyFile(file, generateEncryptionKey());
  return { key: readKeyFile(file), source: 'key file', file, created };
}

/** The key an interrupted `secrets reseal` was moving to, if one was. */
export function pendingNextKey(dataDir: string): string | undefined {
  const file = path.join(dataDir, NEXT_KEY_FILE);
  return fs.existsSync(file) ? readKeyFile(file) : undefined;
}
