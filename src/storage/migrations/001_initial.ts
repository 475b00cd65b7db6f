import { sql, type Kysely } from 'kysely';

// Tables are written in plain SQL: the schema is the contract between storage and every service,
// and SQL is the clearest way to state it for both PostgreSQL and PGlite.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE workspaces (
      id uuid PRIMARY KEY,
      name text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE api_keys (
      id uuid PRIMARY KEY,
      workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
      name text NOT NULL DEFAULT '',
      key_hash text NOT NULL UNIQUE,
      key_prefix text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    );
    CREATE INDEX api_keys_by_workspace ON api_keys (workspace_id, created_at);

    CREATE TABLE companies (
      id uuid PRIMARY KEY,
      workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
      name text,
      domain_name text,
      employees integer,
      address text,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      deleted_at timestamptz
    );
    CREATE INDEX companies_page ON companies (workspace_id, created_at, id);

    CREATE TABLE people (
      id uuid PRIMARY KEY,
      workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
      first_name text,
      last_name text,
      email text,
      job_title text,
      phone text,
      city text,
      company_id uuid,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      deleted_at timestamptz
    );
    CREATE INDEX people_page ON people (workspace_id, created_at, id);

    CREATE TABLE opportunities (
      id uuid PRIMARY KEY,
      workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
      name text,
      amount double precision,
      stage text,
      close_date timestamptz,
      company_id uuid,
      point_of_contact_id uuid,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      deleted_at timestamptz
    );
    CREATE INDEX opportunities_page ON opportunities (workspace_id, created_at, id);

    -- The outbox: one row per committed record write, written in the record's transaction.
    -- record / previous_record are json (not jsonb) so the record keeps its field order in payloads.
    CREATE TABLE events (
      id uuid PRIMARY KEY,
      workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
      operation text NOT NULL,
      record_id uuid NOT NULL,
      record json NOT NULL,
      previous_record json,
      updated_fields json,
      created_at timestamptz NOT NULL
    );
    CREATE INDEX events_by_workspace ON events (workspace_id, created_at);
    CREATE INDEX events_by_age ON events (created_at);

    CREATE TABLE webhooks (
      id uuid PRIMARY KEY,
      workspace_id uuid NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
      target_url text NOT NULL,
      operations text[] NOT NULL,
      description text,
      secret text NOT NULL,
      previous_secret text,
      previous_secret_expires_at timestamptz,
      status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DISABLED')),
      failing_since timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      deleted_at timestamptz
    );
    CREATE INDEX webhooks_by_workspace ON webhooks (workspace_id, created_at);

    -- One row per (webhook, operation pattern): finding the webhooks for an event is an index
    -- lookup of at most four patterns (exact, object.*, *.action, *.*), however many webhooks exist.
    CREATE TABLE webhook_operations (
      webhook_id uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
      workspace_id uuid NOT NULL,
      operation text NOT NULL,
      PRIMARY KEY (webhook_id, operation)
    );
    CREATE INDEX webhook_operations_match ON webhook_operations (workspace_id, operation);

    -- The deliveries table is both the work queue and the delivery log.
    CREATE TABLE deliveries (
      id uuid PRIMARY KEY,
      workspace_id uuid NOT NULL,
      webhook_id uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
      event_id uuid NOT NULL REFERENCES events(id) ON DELETE CASCADE,
      operation text NOT NULL,
      status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED')),
      attempt_count integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz,
      lease_token uuid,
      last_attempt_at timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      UNIQUE (event_id, webhook_id)
    );
    CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'PENDING';
    CREATE INDEX deliveries_by_webhook ON deliveries (webhook_id, created_at DESC, id DESC);

    CREATE TABLE delivery_attempts (
      id uuid PRIMARY KEY,
      delivery_id uuid NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
      workspace_id uuid NOT NULL,
      webhook_id uuid NOT NULL,
      number integer NOT NULL,
      started_at timestamptz NOT NULL,
      duration_ms integer NOT NULL,
      status_code integer,
      response_body text,
      error text,
      request_headers json,
      UNIQUE (delivery_id, number)
    );
    CREATE INDEX delivery_attempts_by_webhook ON delivery_attempts (webhook_id, started_at);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE delivery_attempts; DROP TABLE deliveries; DROP TABLE webhook_operations; DROP TABLE webhooks;
    DROP TABLE events; DROP TABLE opportunities; DROP TABLE people; DROP TABLE companies;
    DROP TABLE api_keys; DROP TABLE workspaces;
  `.execute(db);
}
