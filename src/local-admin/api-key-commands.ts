import { invalidInput, notFound, SwitchboardError } from '../domain/errors.ts';
import type { ApiKeyRow, WorkspaceService } from '../workspaces/api-keys.ts';

/** An API key as the `switchboard apikey` commands show it (JSON-safe: it also crosses the local channel). */
export interface ApiKeySummary {
  id: string;
  workspace: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export type ApiKeyRequest =
  | { command: 'create'; workspace: string; name: string }
  | { command: 'list'; workspace: string }
  | { command: 'revoke'; workspace: string; key: string };

export type ApiKeyAnswer =
  | { command: 'create'; key: string; apiKey: ApiKeySummary }
  | { command: 'list'; apiKeys: ApiKeySummary[] }
  | { command: 'revoke'; apiKey: ApiKeySummary };

function summary(workspace: string, row: ApiKeyRow): ApiKeySummary {
  return {
    id: row.id,
    workspace,
    name: row.name,
    prefix: row.keyPrefix,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
  };
}

function text(value: unknown, field: string, { min, max }: { min: number; max: number }): string {
  if (typeof value !== 'string') throw invalidInput(field, 'must be a string');
  if (value.length < min || value.length > max) throw invalidInput(field, `must be ${min} to ${max} characters`);
  return value;
}

/** Checks a request that came from outside this process (the local channel): every field typed and bounded. */
export function parseApiKeyRequest(input: unknown): ApiKeyRequest {
  if (typeof input !== 'object' || input === null) throw invalidInput('request', 'must be a JSON object');
  const fields = input as Record<string, unknown>;
  const workspace = text(fields.workspace, 'workspace', { min: 1, max: 200 });
  switch (fields.command) {
    case 'create':
      return { command: 'create', workspace, name: text(fields.name ?? '', 'name', { min: 0, max: 200 }) };
    case 'list':
      return { command: 'list', workspace };
    case 'revoke':
      return { command: 'revoke', workspace, key: text(fields.key, 'key', { min: 1, max: 200 }) };
    default:
      throw invalidInput('command', 'must be create, list or revoke');
  }
}

/**
 * The key a revoke names: its id, its prefix as `apikey list` shows it, or the whole key. A prefix that several
 * active keys share is refused rather than guessed.
 */
function findKeyToRevoke(keys: ApiKeyRow[], given: string): ApiKeyRow {
  const byId = keys.find((key) => key.id === given);
  if (byId) return byId;
  const matches = keys.filter((key) => key.keyPrefix === given || (given.length > key.keyPrefix.length && given.startsWith(key.keyPrefix)));
  const active = matches.filter((key) => !key.revokedAt);
  const candidates = active.length > 0 ? active : matches;
  if (candidates.length === 0) throw notFound('API key', given);
  if (candidates.length > 1) {
    throw new SwitchboardError('CONFLICT', `${given} matches ${candidates.length} keys (${candidates.map((key) => key.id).join(', ')}): give the id`);
  }
  return candidates[0]!;
}

/** What `switchboard apikey` does, run by whichever process holds the database. */
export async function runApiKeyRequest(workspaces: WorkspaceService, request: ApiKeyRequest): Promise<ApiKeyAnswer> {
  if (request.command === 'create') {
    const { workspace } = await workspaces.ensureWorkspace(request.workspace);
    const created = await workspaces.createApiKey(workspace.id, request.name);
    return { command: 'create', key: created.key, apiKey: summary(workspace.name, created) };
  }
  const workspace = await workspaces.findWorkspaceByName(request.workspace);
  if (!workspace) throw notFound('workspace', request.workspace);
  const keys = await workspaces.listApiKeys(workspace.id);
  if (request.command === 'list') return { command: 'list', apiKeys: keys.map((key) => summary(workspace.name, key)) };
  const revoked = await workspaces.revokeApiKey(workspace.id, findKeyToRevoke(keys, request.key).id);
  return { command: 'revoke', apiKey: summary(workspace.name, revoked) };
}
