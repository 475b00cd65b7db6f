import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { invalidInput, notFound } from '../domain/errors.ts';
import { requireStorableText } from '../domain/stored-text.ts';
import type { Clock } from '../domain/clock.ts';
import type { DB } from '../storage/schema.ts';
import * as store from '../storage/workspaces.ts';

export type { ApiKeyRow, WorkspaceRow } from '../storage/workspaces.ts';

export const DEFAULT_WORKSPACE = 'default';
const KEY_PREFIX_LENGTH = 11;

/** Keys carry 256 random bits, so one SHA-256 is enough: no password-stretching is needed to resist guessing. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateApiKey(): string {
  return `sb_${randomBytes(32).toString('base64url')}`;
}

export interface CreatedApiKey extends store.ApiKeyRow {
  /** The plain key: shown once, never stored. */
  key: string;
}

export interface WorkspaceService {
  /** Creates the workspace if absent. */
  ensureWorkspace(name: string): Promise<{ workspace: store.WorkspaceRow; created: boolean }>;
  getWorkspace(id: string): Promise<store.WorkspaceRow>;
  findWorkspaceByName(name: string): Promise<store.WorkspaceRow | undefined>;
  createApiKey(workspaceId: string, name?: string, plainKey?: string): Promise<CreatedApiKey>;
  /** The workspace a key belongs to, or undefined for an unknown or revoked key. */
  authenticate(plainKey: string): Promise<{ workspaceId: string; apiKeyId: string } | undefined>;
  listApiKeys(workspaceId: string): Promise<store.ApiKeyRow[]>;
  revokeApiKey(workspaceId: string, id: string): Promise<store.ApiKeyRow>;
  /** Writes the key uses noted since the last write (one statement); runs by itself every KEY_USE_FLUSH_MS. */
  flushKeyUse(): Promise<void>;
  /** Stops the periodic write and writes what is pending. */
  close(): Promise<void>;
}

/** How often noted key uses are written: a key's last_used_at changes at most this often. */
export const KEY_USE_FLUSH_MS = 60_000;

export function createWorkspaceService(db: Kysely<DB>, clock: Clock, options: { onFlushError?: (error: unknown) => void } = {}): WorkspaceService {
  // Last use per key, kept in memory and written in one batch a minute: authenticating never waits on a write.
  const pendingUse = new Map<string, Date>();
  let flushing: Promise<void> = Promise.resolve();
  const flushKeyUse = () =>
    (flushing = flushing.then(async () => {
      if (pendingUse.size === 0) return;
      const uses = [...pendingUse];
      pendingUse.clear();
      try {
        await store.recordApiKeyUses(db, uses.map(([id, at]) => ({ id, at })));
      } catch (error) {
        for (const [id, at] of uses) if (!pendingUse.has(id)) pendingUse.set(id, at);
        options.onFlushError?.(error);
      }
    }));
  const timer = setInterval(() => void flushKeyUse(), KEY_USE_FLUSH_MS);
  timer.unref();
  return {
    flushKeyUse,
    async close() {
      clearInterval(timer);
      await flushKeyUse();
    },

    ensureWorkspace(name) {
      return store.insertWorkspaceIfAbsent(db, { id: randomUUID(), name });
    },

    async getWorkspace(id) {
      const workspace = await store.findWorkspaceById(db, id);
      if (!workspace) throw notFound('workspace', id);
      return workspace;
    },

    findWorkspaceByName(name) {
      return store.findWorkspaceByName(db, name);
    },

    async createApiKey(workspaceId, name = '', plainKey = generateApiKey()) {
      if (name.length > 200) throw invalidInput('name', 'must be at most 200 characters');
      requireStorableText(name, 'name');
      if (plainKey.length < 16) throw invalidInput('key', 'must be at least 16 characters');
      const keyHash = hashApiKey(plainKey);
      const row =
        (await store.insertApiKeyIfAbsent(db, {
          id: randomUUID(),
          workspaceId,
          name,
          keyHash,
          keyPrefix: plainKey.slice(0, KEY_PREFIX_LENGTH),
        })) ?? (await existingKey(db, workspaceId, keyHash));
      return { ...row, key: plainKey };
    },

    async authenticate(plainKey) {
      if (!plainKey) return undefined;
      const found = await store.findActiveKeyByHash(db, hashApiKey(plainKey));
      if (found) pendingUse.set(found.id, clock.now());
      return found && { workspaceId: found.workspaceId, apiKeyId: found.id };
    },

    async listApiKeys(workspaceId) {
      const keys = await store.listApiKeys(db, workspaceId);
      // A use not written yet is still the latest one.
      return keys.map((key) => {
        const pending = pendingUse.get(key.id);
        return pending && (!key.lastUsedAt || pending > key.lastUsedAt) ? { ...key, lastUsedAt: pending } : key;
      });
    },

    async revokeApiKey(workspaceId, id) {
      const revoked = await store.revokeApiKey(db, workspaceId, id, clock.now());
      if (revoked) return revoked;
      const existing = await store.findApiKey(db, workspaceId, id);
      if (!existing) throw notFound('API key', id);
      return existing;
    },
  };
}

async function existingKey(db: Kysely<DB>, workspaceId: string, keyHash: string): Promise<store.ApiKeyRow> {
  const found = await store.findActiveKeyByHash(db, keyHash);
  if (!found || found.workspaceId !== workspaceId) {
    throw invalidInput('key', 'this key already exists (revoked, or in another workspace)');
  }
  const row = await store.findApiKey(db, workspaceId, found.id);
  if (!row) throw notFound('API key', found.id);
  return row;
}
