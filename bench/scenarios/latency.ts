// 2. Latency at a steady event rate: from the event's commit to the sink receiving it.
import { Pool } from 'undici';
import {
  appendCommitted, insertWebhooks, insertWorkspace, now, percentile, sampleEvents, sleep, startWorker,
  type Figure, type Scale, type Sink,
} from '../harness.ts';
import type { Database } from '../../src/storage/database.ts';
import { BullmqPeer } from '../peer-bullmq.ts';
import { sampleBody } from './throughput.ts';

const TICK_MS = 20;

/** Calls `tick(count)` every TICK_MS with the number of events due so far, for `seconds`; no catching up in bursts beyond the schedule. */
async function steady(rate: number, seconds: number, tick: (count: number) => Promise<void>): Promise<void> {
  const started = now();
  const total = Math.round(rate * seconds);
  let sent = 0;
  const pending: Promise<void>[] = [];
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - started) / 1000) * rate));
    if (due > sent) {
      pending.push(tick(due - sent));
      sent = due;
    }
    await sleep(TICK_MS);
  }
  await Promise.all(pending);
}

function summary(latencies: number[]): { p50: number; p95: number; p99: number; max: number } {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN };
}

export async function latency(database: Database, sink: Sink, scale: Scale): Promise<Figure[]> {
  const rate = scale.latencyRate;
  const seconds = scale.latencySeconds;

  // Baseline: the same rate of single POSTs straight to the sink, send start → arrival.
  await sink.reset();
  const pool = new Pool(sink.url(''), { connections: 64 });
  const body = sampleBody();
  const sentAt = new Map<string, number>();
  await steady(rate, seconds, async (count) => {
    await Promise.all(
      Array.from({ length: count }, async () => {
        const id = crypto.randomUUID();
        sentAt.set(id, now());
        const response = await pool.request({ method: 'POST', path: '/latency-raw', headers: { 'webhook-id': id }, body });
        await response.body.dump();
      }),
    );
  });
  await pool.close();
  const rawArrivals = await sink.arrivals();
  const raw = summary([...sentAt].map(([id, at]) => rawArrivals.get(id)! - at));

  // The BullMQ peer at the same rate: from addBulk resolving (Redis has the jobs) to the sink receiving them.
  const peer = await BullmqPeer.start(sink);
  await sink.reset();
  const peerWebhookId = crypto.randomUUID();
  const peerWorkspaceId = crypto.randomUUID();
  const enqueuedAt = new Map<string, number>();
  try {
    await steady(rate, seconds, async (count) => {
      const events = sampleEvents(peerWorkspaceId, count);
      await peer.enqueue(events, peerWebhookId, '/latency-peer');
      const at = now();
      for (const event of events) enqueuedAt.set(event.id, at);
    });
    await sink.waitFor(enqueuedAt.size, 60_000);
  } finally {
    await peer.stop();
  }
  const peerArrivals = await sink.arrivals();
  const peerLatency = summary([...enqueuedAt].map(([id, at]) => peerArrivals.get(id)! - at));

  const workspaceId = await insertWorkspace(database, 'bench-latency');
  await insertWebhooks(database, workspaceId, sink.url('/latency'), 1);
  const worker = await startWorker(database);
  await sink.reset();
  const committedAt = new Map<string, number>();
  await steady(rate, seconds, async (count) => {
    const events = sampleEvents(workspaceId, count);
    await appendCommitted(database, events);
    const at = now();
    for (const event of events) committedAt.set(event.id, at);
  });
  await sink.waitFor(committedAt.size, 60_000);
  await worker.stop();
  const arrivals = await sink.arrivals();
  const measured = summary([...committedAt].map(([id, at]) => arrivals.get(id)! - at));

  const figures: Figure[] = [];
  for (const key of ['p50', 'p95', 'p99', 'max'] as const) {
    figures.push({
      scenario: '2. Latency',
      metric: `commit → sink at ${rate} events/s, ${key}`,
      value: measured[key],
      unit: 'ms',
      baseline: { label: `raw POST ${key}`, value: raw[key] },
      target: key === 'p99' && rate >= 500 ? { text: '≤ 50 ms', met: measured.p99 <= 50 } : undefined,
    });
  }
  for (const key of ['p50', 'p99'] as const) {
    const ratio = measured[key] / peerLatency[key];
    figures.push({
      scenario: '2. Latency',
      metric: `commit → sink at ${rate} events/s, ${key}, ÷ BullMQ peer (enqueued → sink)`,
      value: measured[key],
      unit: 'ms',
      baseline: { label: `BullMQ peer ${key}`, value: peerLatency[key] },
      ratio,
      target: rate >= 500 ? { text: '≤ 1 × peer', met: ratio <= 1 } : undefined,
    });
  }
  return figures;
}
