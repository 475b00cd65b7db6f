import type { RootOperationNode } from 'kysely';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { loadConfig, type Config, type Role } from '../../src/config.ts';
import type { Clock } from '../../src/domain/clock.ts';
import type { Database, DatabaseKind } from '../../src/storage/database.ts';
import { startSwitchboard, type RunningSwitchboard } from '../../src/server.ts';
import { createTestDatabase, type TestDatabase } from './databases.ts';

export const TEST_API_KEY = 'sb_test_key_for_workspace_default_0001';

export interface GraphQLResult<T = any> {
  status: number;
  data: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string; field?: string } }>;
}

export interface TestApp {
  kind: DatabaseKind;
  url: string;
  apiKey: string;
  server: RunningSwitchboard;
  testDatabase: TestDatabase;
  /** The app's DATA_DIR (its generated encryption key): give it to another process on the same database. */
  dataDir: string;
  /** POST /graphql with the default key (or the given one). */
  graphql<T = any>(query: string, variables?: Record<string, unknown>, apiKey?: string): Promise<GraphQLResult<T>>;
  /** A REST call; body is sent as JSON. */
  rest<T = any>(method: string, path: string, body?: unknown, apiKey?: string): Promise<{ status: number; body: T }>;
  /** A new workspace with its own key. */
  createWorkspace(name: string): Promise<{ workspaceId: string; apiKey: string }>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  role?: Role;
  clock?: Clock;
  env?: Record<string, string>;
  config?: Partial<Config>;
  /** Sees every statement the server runs (counting them, say); the test database itself is left as it is. */
  onStatement?: (node: RootOperationNode) => void;
}

function observedDatabase(database: Database, onStatement: (node: RootOperationNode) => void): Database {
  const db = database.db.withPlugin({
    transformQuery(args) {
      onStatement(args.node);
      return args.node;
    },
    transformResult: async (args) => args.result,
  });
  // Getters and methods of the database stay bound to the original; only the query builder is observed.
  return { kind: database.kind, db, listen: database.listen, maintain: database.maintain, close: database.close };
}

/** Switchboard in this process on a fresh database, listening on a free port of 127.0.0.1. */
export async function startTestApp(kind: DatabaseKind, options: TestAppOptions = {}): Promise<TestApp> {
  const testDatabase = await createTestDatabase(kind);
  // DATA_DIR holds the generated encryption key: one per app, never the repository's ./data.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-app-'));
  const config = loadConfig(
    { PORT: '0', HOST: '127.0.0.1', SWITCHBOARD_API_KEY: TEST_API_KEY, DATA_DIR: dataDir, ...options.env },
    options.config,
  );
  const server = await startSwitchboard({
    config,
    role: options.role ?? 'all',
    clock: options.clock,
    database: options.onStatement ? observedDatabase(testDatabase.database, options.onStatement) : testDatabase.database,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
  });
  const url = server.url!;

  const graphql: TestApp['graphql'] = async (query, variables, apiKey = TEST_API_KEY) => {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: any; errors?: GraphQLResult['errors'] };
    return { status: response.status, data: body.data ?? null, ...(body.errors ? { errors: body.errors } : {}) };
  };

  const rest: TestApp['rest'] = async (method, path, body, apiKey = TEST_API_KEY) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  };

  return {
    kind,
    url,
    apiKey: TEST_API_KEY,
    server,
    testDatabase,
    dataDir: config.dataDir,
    graphql,
    rest,
    async createWorkspace(name) {
      const { workspace } = await server.services.workspaces.ensureWorkspace(name);
      const key = await server.services.workspaces.createApiKey(workspace.id, 'test');
      return { workspaceId: workspace.id, apiKey: key.key };
    },
    async close() {
      await server.stop();
      await testDatabase.dispose();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
