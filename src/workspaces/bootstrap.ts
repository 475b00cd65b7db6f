import { DEFAULT_WORKSPACE, type WorkspaceService } from './api-keys.ts';
import * as store from '../storage/workspaces.ts';
import type { Kysely } from 'kysely';
import type { DB } from '../storage/schema.ts';

export interface BootstrapResult {
  workspaceId: string;
  /** A key created now because the default workspace had none: print it, it is never shown again. */
  newApiKey?: string;
  /** SWITCHBOARD_API_KEY was given and is active. */
  configuredKey: boolean;
}

/**
 * First start: create workspace `default` with one API key. With SWITCHBOARD_API_KEY, that exact key is
 * created instead, idempotently, so scripts and tests can know the key in advance.
 */
export async function bootstrapDefaultWorkspace(
  db: Kysely<DB>,
  workspaces: WorkspaceService,
  configuredKey: string | undefined,
): Promise<BootstrapResult> {
  const { workspace } = await workspaces.ensureWorkspace(DEFAULT_WORKSPACE);
  if (configuredKey) {
    await workspaces.createApiKey(workspace.id, 'SWITCHBOARD_API_KEY', configuredKey);
    return { workspaceId: workspace.id, configuredKey: true };
  }
  if ((await store.countApiKeys(db, workspace.id)) > 0) return { workspaceId: workspace.id, configuredKey: false };
  const created = await workspaces.createApiKey(workspace.id, 'first key');
  return { workspaceId: workspace.id, newApiKey: created.key, configuredKey: false };
}
