// Appends one row per event to a change table: newline-delimited JSON that DuckDB, BigQuery, ClickHouse,
// Snowflake or PostgreSQL (COPY) load as is. `event_id` is the key: an event already in the file is skipped,
// so retries and redeliveries never add a second row.
//
//   WEBHOOK_SECRET=whsec_… WAREHOUSE_FILE=./warehouse/record_changes.ndjson node docs/examples/warehouse-append.mjs
//   duckdb -c "SELECT operation, count(*) FROM read_json_auto('warehouse/record_changes.ndjson') GROUP BY 1"
//
// With a SQL warehouse the same row goes into
//   INSERT INTO record_changes (...) VALUES (...) ON CONFLICT (event_id) DO NOTHING
import fs from 'node:fs';
import path from 'node:path';
import { startReceiver } from './receiver.mjs';

const file = path.resolve(process.env.WAREHOUSE_FILE ?? 'warehouse/record_changes.ndjson');
fs.mkdirSync(path.dirname(file), { recursive: true });

// The ids already stored, so a restart keeps deduplicating.
const seen = new Set();
if (fs.existsSync(file)) {
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) if (line) seen.add(JSON.parse(line).event_id);
}

function warehouseRow(event) {
  const [object, action] = event.operation.split('.');
  return {
    event_id: event.id,
    occurred_at: event.timestamp,
    workspace_id: event.workspaceId,
    object,
    action,
    record_id: event.record?.id ?? null,
    updated_fields: event.updatedFields ?? [],
    record: event.record,
    previous_record: event.previousRecord,
  };
}

startReceiver({
  name: 'warehouse-append',
  seen,
  async handle(event) {
    await fs.promises.appendFile(file, `${JSON.stringify(warehouseRow(event))}\n`);
    console.log(`warehouse-append: ${event.operation} ${event.record?.id} appended to ${file}`);
  },
});
