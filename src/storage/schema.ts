import type { ColumnType, Generated } from 'kysely';

/** A timestamptz column: Date when read, Date or ISO string when written. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T = unknown> = ColumnType<T, string, string>;

export interface WorkspacesTable {
  id: string;
  name: string;
  /** Bumped by every change of the workspace's objects or fields. */
  metadata_version: Generated<string>;
  created_at: Generated<Date>;
}

export interface ApiKeysTable {
  id: string;
  workspace_id: string;
  name: Generated<string>;
  key_hash: string;
  key_prefix: string;
  created_at: Generated<Date>;
  last_used_at: NullableTimestamp;
  revoked_at: NullableTimestamp;
}

interface RecordColumns {
  id: string;
  workspace_id: string;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: NullableTimestamp;
}

/** The custom fields of a standard object's record, keyed by the field's API name. */
type CustomFieldsColumn = ColumnType<Record<string, unknown>, string | undefined, string>;

export interface CompaniesTable extends RecordColumns {
  custom: CustomFieldsColumn;
  name: string | null;
  domain_name: string | null;
  employees: number | null;
  address: string | null;
}

export interface PeopleTable extends RecordColumns {
  custom: CustomFieldsColumn;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  job_title: string | null;
  phone: string | null;
  city: string | null;
  company_id: string | null;
}

export interface OpportunitiesTable extends RecordColumns {
  custom: CustomFieldsColumn;
  name: string | null;
  amount: number | null;
  stage: string | null;
  close_date: NullableTimestamp;
  company_id: string | null;
  point_of_contact_id: string | null;
}

export interface EventsTable {
  id: string;
  workspace_id: string;
  operation: string;
  record_id: string;
  record: Json<Record<string, unknown>>;
  previous_record: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  updated_fields: ColumnType<string[] | null, string | null, string | null>;
  /** From a sequence at insert, after the record was locked: one record's events follow their commit order. */
  commit_order: Generated<string | null>;
  created_at: Timestamp;
}

export type WebhookStatus = 'ACTIVE' | 'DISABLED';
/** NONE: deliveries go as they can; PER_RECORD: one record's deliveries go strictly in commit order. */
export type WebhookOrdering = 'NONE' | 'PER_RECORD';
/** Why a webhook is DISABLED: a 410 Gone answer, 5 days of failures, or its owner. */
export type WebhookDisabledReason = 'GONE_410' | 'FAILING_5_DAYS' | 'BY_USER';

export interface WebhooksTable {
  id: string;
  workspace_id: string;
  target_url: string;
  operations: string[];
  description: string | null;
  /** The signing secret, encrypted when SWITCHBOARD_ENCRYPTION_KEY is set. */
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: NullableTimestamp;
  status: Generated<WebhookStatus>;
  failing_since: NullableTimestamp;
  /** A record filter (contract §10) as the caller gave it; null: every record. */
  filter: ColumnType<unknown | null, string | null | undefined, string | null>;
  /** For updated events: the field names one must touch; null: any change. */
  fields: string[] | null;
  ordering: Generated<WebhookOrdering>;
  disabled_reason: WebhookDisabledReason | null;
  disabled_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
  deleted_at: NullableTimestamp;
}

export interface WebhookOperationsTable {
  webhook_id: string;
  workspace_id: string;
  operation: string;
}

export type DeliveryStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

export interface DeliveriesTable {
  id: string;
  workspace_id: string;
  webhook_id: string;
  event_id: string;
  operation: string;
  status: Generated<DeliveryStatus>;
  attempt_count: Generated<number>;
  next_attempt_at: NullableTimestamp;
  lease_token: string | null;
  /** The worker holding the lease: released at once when that worker stops heartbeating. */
  leased_by: string | null;
  last_attempt_at: NullableTimestamp;
  /** For a PER_RECORD webhook: the record, and its event's commit_order (null otherwise). */
  ordering_key: string | null;
  ordering_seq: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** An event whose deliveries are still to be created, with the webhooks that matched when it was written. */
export interface PendingFanoutsTable {
  event_id: string;
  webhook_ids: string[];
  /** Webhooks whose operations matched but whose filter or fields screened the event out (for their tally). */
  filtered_webhook_ids: string[] | null;
  created_at: Date;
}

/** Events screened out per webhook and hour. */
export interface WebhookFilteredCountsTable {
  webhook_id: string;
  hour: Timestamp;
  filtered: ColumnType<string, number, number>;
}

export interface DeliveryAttemptsTable {
  id: string;
  delivery_id: string;
  workspace_id: string;
  webhook_id: string;
  number: number;
  started_at: Timestamp;
  duration_ms: number;
  status_code: number | null;
  response_body: string | null;
  error: string | null;
  request_headers: ColumnType<Record<string, string> | null, string | null, string | null>;
}

/** One live worker process; a row not refreshed for a while belongs to a dead one. */
export interface WorkerHeartbeatsTable {
  worker_id: string;
  started_at: Timestamp;
  last_seen_at: Timestamp;
}

/** Records of custom objects: their fields in `data`, keyed by the field's API name. */
export interface CustomRecordsTable extends RecordColumns {
  object_metadata_id: string;
  data: Json<Record<string, unknown>>;
}

export interface ObjectMetadataTable {
  id: string;
  workspace_id: string;
  name_singular: string;
  name_plural: string;
  label_singular: string;
  label_plural: string;
  description: string | null;
  icon: string | null;
  is_active: boolean;
  is_label_synced_with_name: boolean;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface FieldMetadataTable {
  id: string;
  workspace_id: string;
  object_metadata_id: string;
  type: string;
  name: string;
  label: string;
  description: string | null;
  icon: string | null;
  is_active: boolean;
  is_nullable: boolean;
  is_label_synced_with_name: boolean;
  default_value: Json | null;
  options: Json | null;
  settings: Json | null;
  relation_target_object_metadata_id: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface DB {
  custom_records: CustomRecordsTable;
  object_metadata: ObjectMetadataTable;
  field_metadata: FieldMetadataTable;
  workspaces: WorkspacesTable;
  api_keys: ApiKeysTable;
  companies: CompaniesTable;
  people: PeopleTable;
  opportunities: OpportunitiesTable;
  events: EventsTable;
  webhooks: WebhooksTable;
  webhook_operations: WebhookOperationsTable;
  deliveries: DeliveriesTable;
  delivery_attempts: DeliveryAttemptsTable;
  pending_fanouts: PendingFanoutsTable;
  worker_heartbeats: WorkerHeartbeatsTable;
  webhook_filtered_counts: WebhookFilteredCountsTable;
}
