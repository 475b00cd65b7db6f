// A short probe for comparing commits (bisecting) on a busy machine: N deliveries (default 10,000) through scenario
// 1's pipeline, after a warm-up; prints the CPU per delivery of this process (worker and driver), of the bench
// database's PostgreSQL backends and of the sink, all from /proc, and the WAL written per delivery. Divide by the
// sink's figure (the same work in every commit) to cancel the machine's load. STATS=1 also lists the statements
// from pg_stat_statements (the server must preload it); PRE_SQL runs SQL before the run (e.g. to try an index).
//   DATABASE_URL=postgres://… N=10000 node --import tsx bench/cpu-probe.ts
import fs from 'node:fs';
import { sql } from 'kysely';
import { appendCommitted, createBenchDatabase, insertWebhooks, insertWorkspace, now, sampleEvents, Sink, startWorker } from './harness.ts';

const total = Number(process.env.N ?? 10000);
function pidCpu(pid: number): number {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch { return 0; }
}
const bench = await createBenchDatabase(process.env.DATABASE_URL);
const sink = await Sink.start();
const db = bench.database;
async function backends(): Promise<Map<number, number>> {
  const r = await sql<{ pid: number }>`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`.execute(db.db);
  return new Map(r.rows.map((row) => [row.pid, pidCpu(row.pid)]));
}
if (process.env.PRE_SQL) await sql.raw(process.env.PRE_SQL).execute(db.db);
const workspaceId = await insertWorkspace(db, 'probe');
await insertWebhooks(db, workspaceId, sink.url('/p'), 1);
// warm-up
{
  await sink.reset();
  const w = await startWorker(db, { SWITCHBOARD_MAX_IN_FLIGHT: '64', SWITCHBOARD_MAX_IN_FLIGHT_PER_ENDPOINT: '64' });
  const a = sink.waitFor(1000, 120000);
  for (let i = 0; i < 1000; i += 500) await appendCommitted(db, sampleEvents(workspaceId, 500));
  await a; await w.flush(); await w.stop();
}
await sink.reset();
const worker = await startWorker(db, { SWITCHBOARD_MAX_IN_FLIGHT: '64', SWITCHBOARD_MAX_IN_FLIGHT_PER_ENDPOINT: '64' });
await new Promise((r) => setTimeout(r, 300));
const arrived = sink.waitFor(total, 300000);
const stats = process.env.STATS === '1';
if (stats) { await sql`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`.execute(db.db); await sql`SELECT pg_stat_statements_reset()`.execute(db.db); }
const lsn0 = (await sql<{ l: string }>`SELECT pg_current_wal_lsn()::text AS l`.execute(db.db)).rows[0]!.l;
const pgBefore = await backends();
const own0 = process.cpuUsage();
const sink0 = pidCpu(sink.pid!);
const t0 = now();
for (let i = 0; i < total; i += 500) await appendCommitted(db, sampleEvents(workspaceId, Math.min(500, total - i)));
await arrived;
await worker.flush();
const seconds = (now() - t0) / 1000;
const own1 = process.cpuUsage(own0);
const pgAfter = await backends();
let pg = 0;
for (const [pid, cpu] of pgAfter) pg += cpu - (pgBefore.get(pid) ?? 0);
const sinkCpu = pidCpu(sink.pid!) - sink0;
const wal = (await sql<{ b: string }>`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ${lsn0}::pg_lsn)::bigint AS b`.execute(db.db)).rows[0]!.b;
console.log(`WAL ${(Number(wal) / total).toFixed(0)} bytes/delivery from ${lsn0} to ${(await sql<{ l: string }>`SELECT pg_current_wal_lsn()::text AS l`.execute(db.db)).rows[0]!.l}`);
if (stats) {
  const r = await sql<{ calls: string; rows: string; ms: string; blks: string; wal_bytes: string; q: string }>`SELECT calls, rows, round(total_exec_time::numeric,1) AS ms, shared_blks_hit + shared_blks_read AS blks, shared_blks_dirtied AS dirtied, wal_records, wal_bytes, left(translate(query, chr(10), ' '), 140) AS q FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY total_exec_time DESC LIMIT 14`.execute(db.db);
  let totalMs = 0; for (const x of r.rows) totalMs += Number(x.ms);
  for (const x of r.rows) console.log(`${String(x.calls).padStart(6)} calls ${String(x.rows).padStart(6)} rows ${(Number(x.ms) * 1000 / total).toFixed(1).padStart(6)} us/dlv ${(Number(x.blks) / total).toFixed(1).padStart(5)} blk/dlv ${(Number(x.wal_bytes) / total).toFixed(0).padStart(5)} walB/dlv  ${x.q}`);
}
await worker.stop();
const node = (own1.user + own1.system) / 1e6;
const per = (s: number) => ((s * 1000) / total).toFixed(3);
console.log(`RESULT n=${total} rate=${(total / seconds).toFixed(0)}/s node=${per(node)} pg=${per(pg)} sink=${per(sinkCpu)} node+pg=${per(node + pg)} ms/delivery`);
sink.stop();
await bench.dispose();
process.exit(0);
