import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type Database, type DatabaseKind } from '../../src/storage/database.ts';
import { databaseUrlFor } from './postgres-url.ts';

/** PGlite always; PostgreSQL too when DATABASE_URL is set. */
export const DATABASE_KINDS: DatabaseKind[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export interface TestDatabase {
  kind: DatabaseKind;
  /** Open connection for in-process use. */
  database: Database;
  /** Closes the connection and removes the database. */
  dispose(): Promise<void>;
}

/** A PGlite data folder, migrated, for a child process or an in-process open. Removed by the caller. */
export function copyPgliteTemplate(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-pglite-'));
  fs.cpSync(inject('pgliteTemplateDir'), dir, { recursive: true });
  return dir;
}

/** A new, empty, migrated PostgreSQL database; returns its URL. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.DATABASE_URL;
  const template = inject('postgresTemplate');
  if (!adminUrl || !template) throw new Error('PostgreSQL tests need DATABASE_URL');
  const name = `switchboard_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
        break;
      } catch (error) {
        // Another file copying the template at the same moment: wait and try again.
        if (attempt >= 20 || !/being accessed by other users/.test(String(error))) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
      }
    }
  } finally {
    await admin.end();
  }
  return {
    url: databaseUrlFor(adminUrl, name),
    async drop() {
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => dropper.end());
    },
  };
}

/** A fresh migrated database of the given kind, isolated from every other test file. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const dataDir = copyPgliteTemplate();
    const pglite = await PGlite.create(dataDir);
    const database = await openDatabase({ pglite });
    return {
      kind,
      database,
      async dispose() {
        await database.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const created = await createPostgresDatabase();
  const database = await openDatabase({ databaseUrl: created.url });
  return {
    kind,
    database,
    async dispose() {
      await database.close();
      await created.drop();
    },
  };
}

/**
 * Environment for a child process (`switchboard serve`) with its own fresh database: a PGlite folder
 * (a process of its own, so never one open in this process) or a PostgreSQL database that others may share.
 */
export async function createChildProcessDatabase(kind: DatabaseKind): Promise<{ env: Record<string, string>; dispose(): Promise<void> }> {
  if (kind === 'pglite') {
    const dataDir = copyPgliteTemplate();
    // DATABASE_URL cleared: the child would otherwise inherit the test run's PostgreSQL server.
    return { env: { DATA_DIR: dataDir, DATABASE_URL: '' }, dispose: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
  }
  const created = await createPostgresDatabase();
  // DATA_DIR holds only the generated encryption key, shared by every process on this database.
  const keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-key-'));
  return {
    env: { DATABASE_URL: created.url, DATA_DIR: keyDir },
    async dispose() {
      await created.drop();
      fs.rmSync(keyDir, { recursive: true, force: true });
    },
  };
}
