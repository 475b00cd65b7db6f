import { sql, type Kysely } from 'kysely';

// Custom objects and fields (Twenty's data model). The metadata lives in two tables; the standard objects
// (person, company, opportunity) are described by code, not rows, so every workspace has them without a backfill.
//
// Records of custom objects share one table keyed (workspace, object, id) with their fields in one jsonb
// document: creating an object or a field is a metadata write (and at most an index), never DDL on a table of its
// own, so it is instant, transactional and cheap on PGlite. Custom fields of the standard objects go in a jsonb
// column of their tables. A field that users filter or sort on gets a partial expression index (see
// src/storage/record-indexes.ts), so such queries stay index lookups.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- Bumped by every metadata change: API processes cache one schema per (workspace, version).
    ALTER TABLE workspaces ADD COLUMN metadata_version bigint NOT NULL DEFAULT 0;

    CREATE TABLE object_metadata (
      id uuid PRIMARY KEY,
      workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
      name_singular text NOT NULL,
      name_plural text NOT NULL,
      label_singular text NOT NULL,
      label_plural text NOT NULL,
      description text,
      icon text,
      is_active boolean NOT NULL DEFAULT true,
      is_label_synced_with_name boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      UNIQUE (workspace_id, name_singular),
      UNIQUE (workspace_id, name_plural)
    );

    CREATE TABLE field_metadata (
      id uuid PRIMARY KEY,
      workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
      -- A custom object's id, or the derived id of a standard object (which has no row): no foreign key.
      object_metadata_id uuid NOT NULL,
      type text NOT NULL,
      name text NOT NULL,
      label text NOT NULL,
      description text,
      icon text,
      is_active boolean NOT NULL DEFAULT true,
      is_nullable boolean NOT NULL DEFAULT true,
      is_label_synced_with_name boolean NOT NULL DEFAULT false,
      default_value jsonb,
      options jsonb,
      settings jsonb,
      relation_target_object_metadata_id uuid,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      UNIQUE (object_metadata_id, name)
    );
    CREATE INDEX field_metadata_by_workspace ON field_metadata (workspace_id, created_at);

    CREATE TABLE custom_records (
      id uuid PRIMARY KEY,
      workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
      object_metadata_id uuid NOT NULL REFERENCES object_metadata(id) ON DELETE CASCADE,
      data jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      deleted_at timestamptz
    );
    CREATE INDEX custom_records_page ON custom_records (object_metadata_id, workspace_id, created_at, id);

    ALTER TABLE people ADD COLUMN custom jsonb NOT NULL DEFAULT '{}';
    ALTER TABLE companies ADD COLUMN custom jsonb NOT NULL DEFAULT '{}';
    ALTER TABLE opportunities ADD COLUMN custom jsonb NOT NULL DEFAULT '{}';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE opportunities DROP COLUMN custom; ALTER TABLE companies DROP COLUMN custom; ALTER TABLE people DROP COLUMN custom;
    DROP TABLE custom_records; DROP TABLE field_metadata; DROP TABLE object_metadata;
    ALTER TABLE workspaces DROP COLUMN metadata_version;
  `.execute(db);
}
