import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/storage/database.ts';
import { migrateToLatest } from '../../src/storage/migrate.ts';
import { randomBytes } from 'node:crypto';
import { databaseUrlFor } from './postgres-url.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplateDir: string;
    postgresTemplate: string | undefined;
  }
}

/**
 * Builds migrated templates once per run: a PGlite data folder that each test copies (initdb costs seconds
 * and ~800 MB; a copy opens in about one), and, when DATABASE_URL is set, a PostgreSQL template database.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-test-'));
  const templateDir = path.join(root, 'pglite-template');
  const pglite = await PGlite.create(templateDir);
  const database = await openDatabase({ pglite });
  await migrateToLatest(database.db);
  await database.close();
  project.provide('pgliteTemplateDir', templateDir);

  // A template of this run's own: runs in parallel (several engineers, or CI beside a developer) never collide.
  const adminUrl = process.env.DATABASE_URL;
  const template = `switchboard_test_template_${randomBytes(4).toString('hex')}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(statement).finally(() => client.end());
  };
  if (adminUrl) {
    await admin(`CREATE DATABASE ${template}`);
    const templateDatabase = await openDatabase({ databaseUrl: databaseUrlFor(adminUrl, template), poolSize: 1 });
    await migrateToLatest(templateDatabase.db);
    await templateDatabase.close();
  }
  project.provide('postgresTemplate', adminUrl ? template : undefined);

  return async () => {
    fs.rmSync(root, { recursive: true, force: true });
    if (adminUrl) await admin(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => {});
  };
}
