// 1. Raw limit vs full pipeline: the same ~1 KB signed bodies, 64 in flight, to the same sink.
import os from 'node:os';
import { Pool } from 'undici';
import { signatureHeaders } from '../../src/domain/signing.ts';
import {
  appendCommitted, countDeliveries, cpuSince, cpuSnapshot, insertWebhooks, insertWorkspace, now, sampleEvents, sampleRecord, startWorker,
  type Figure, type Scale, type Sink,
} from '../harness.ts';
import type { Database } from '../../src/storage/database.ts';
import { peerThroughput } from '../peer-bullmq.ts';

const IN_FLIGHT = 64;
const INSERT_BATCH = 500;

/** A body shaped like a delivery's, about 1 KB. */
export function sampleBody(): string {
  const record = sampleRecord(0);
  return JSON.stringify({
    id: crypto.randomUUID(),
    workspaceId: crypto.randomUUID(),
    webhookId: crypto.randomUUID(),
    operation: 'person.created',
    timestamp: new Date().toISOString(),
    record,
    previousRecord: null,
    updatedFields: null,
  });
}

/** Sends `count` POSTs with `inFlight` at a time straight to the sink; returns requests/s. */
export async function rawRequestsPerSecond(sink: Sink, count: number, inFlight: number, pathFor: (i: number) => string): Promise<number> {
  const body = sampleBody();
  const headers = signatureHeaders({
    secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    eventId: crypto.randomUUID(),
    timestamp: Math.floor(Date.now() / 1000),
    body,
    version: 'bench',
  });
  const pool = new Pool(sink.url(''), { connections: inFlight, pipelining: 1 });
  let next = 0;
  const started = now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        const index = next++;
        const response = await pool.request({ method: 'POST', path: pathFor(index), headers, body });
        await response.body.dump();
        if (response.statusCode !== 200) throw new Error(`sink answered ${response.statusCode}`);
      }
    }),
  );
  const seconds = (now() - started) / 1000;
  await pool.close();
  return count / seconds;
}

export async function throughput(database: Database, sink: Sink, scale: Scale): Promise<Figure[]> {
  const total = scale.pipelineDeliveries;
  await sink.reset();
  await rawRequestsPerSecond(sink, Math.min(2_000, total), IN_FLIGHT, () => '/warmup');
  const rawCpuBefore = cpuSnapshot(sink);
  const raw = await rawRequestsPerSecond(sink, total, IN_FLIGHT, () => '/raw');
  const rawCpu = cpuSince(rawCpuBefore, sink);

  // The peer runs right before ours, enqueueing the same events in the same batches inside its timed window.
  const peerWorkspaceId = crypto.randomUUID();
  const peer = await peerThroughput(sink, total, INSERT_BATCH, (count) => sampleEvents(peerWorkspaceId, count));

  const workspaceId = await insertWorkspace(database, 'bench-throughput');
  await insertWebhooks(database, workspaceId, sink.url('/pipeline'), 1);
  await sink.reset();
  const worker = await startWorker(database, {
    SWITCHBOARD_MAX_IN_FLIGHT: String(IN_FLIGHT),
    SWITCHBOARD_MAX_IN_FLIGHT_PER_ENDPOINT: String(IN_FLIGHT),
  });
  const arrived = sink.waitFor(total, 300_000);
  const pipelineCpuBefore = cpuSnapshot(sink);
  const started = now();
  for (let inserted = 0; inserted < total; inserted += INSERT_BATCH) {
    await appendCommitted(database, sampleEvents(workspaceId, Math.min(INSERT_BATCH, total - inserted)));
  }
  await arrived;
  await worker.flush();
  const seconds = (now() - started) / 1000;
  const pipelineCpu = cpuSince(pipelineCpuBefore, sink);
  await worker.stop();
  const succeeded = await countDeliveries(database, workspaceId, 'SUCCEEDED');
  const { received } = await sink.stats();
  if (succeeded !== total || received !== total) {
    throw new Error(`pipeline: ${succeeded} stored as succeeded and ${received} received, expected ${total} each`);
  }
  const pipeline = total / seconds;
  const ratio = pipeline / raw;
  const target = database.kind === 'postgres' ? { text: '≥ 0.5 of raw', met: ratio >= 0.5 } : undefined;
  const peerRatio = pipeline / peer;
  const perDelivery = (seconds: number) => ((seconds * 1000) / total).toFixed(3);
  const cpuFigures: Figure[] =
    rawCpu !== null && pipelineCpu !== null
      ? [
          {
            scenario: '1. Throughput',
            metric:
              `machine CPU per delivery, all processes (${os.cpus().length} cores: ceiling ` +
              `${Math.round((os.cpus().length * total) / pipelineCpu.machine).toLocaleString('en-US')}/s; of which ` +
              `worker and driver ${perDelivery(pipelineCpu.bench)} ms, sink ${perDelivery(pipelineCpu.sink)} ms, ` +
              `PostgreSQL and the rest ${perDelivery(pipelineCpu.machine - pipelineCpu.bench - pipelineCpu.sink)} ms)`,
            value: (pipelineCpu.machine * 1000) / total,
            unit: 'ms',
            baseline: { label: 'per raw request', value: (rawCpu.machine * 1000) / total },
            ratio: pipelineCpu.machine / rawCpu.machine,
          },
        ]
      : [];
  return [
    { scenario: '1. Throughput', metric: 'raw undici Pool → sink, 64 in flight', value: raw, unit: 'req/s' },
    {
      scenario: '1. Throughput',
      metric: `pipeline: insert → fan-out → claim → sign → POST → store (${total} deliveries)`,
      value: pipeline,
      unit: 'deliveries/s',
      baseline: { label: 'raw', value: raw },
      ratio,
      target,
    },
    {
      scenario: '1. Throughput',
      metric: 'BullMQ peer: enqueue → job → sign → POST (one job per delivery, concurrency 64, undici, Redis without persistence)',
      value: peer,
      unit: 'deliveries/s',
    },
    {
      scenario: '1. Throughput',
      metric: 'pipeline ÷ BullMQ peer (deliveries/s, same run)',
      value: pipeline,
      unit: 'deliveries/s',
      baseline: { label: 'BullMQ peer', value: peer },
      ratio: peerRatio,
      target: database.kind === 'postgres' ? { text: '≥ 1.5 × peer', met: peerRatio >= 1.5 } : undefined,
    },
    ...cpuFigures,
  ];
}
