// The peer every delivery figure is compared with: a plain BullMQ sender (one job per delivery, concurrency 64,
// undici) in this process, as our worker is, signing with our signing code and posting to the same sink. Redis
// keeps no file (no RDB, no AOF), so the peer pays nothing for durability.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { buildPayload, serialisePayload, type PayloadEvent } from '../src/domain/payload.ts';
import { signatureHeaders } from '../src/domain/signing.ts';
import { now, sleep, type Sink } from './harness.ts';

const REDIS = { host: '127.0.0.1', port: 6379 };
export const PEER_CONCURRENCY = 64;
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** One job: what our worker reads from its claim (the event and the webhook), nothing more. */
interface DeliveryJob {
  event: PayloadEvent;
  webhookId: string;
  path: string;
}

async function redisAnswers(): Promise<boolean> {
  const client = new Redis({ ...REDIS, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Starts Redis on 127.0.0.1:6379 (no persistence) unless one answers there already. */
export async function ensureRedis(): Promise<void> {
  if (await redisAnswers()) return;
  execFileSync('redis-server', ['--save', '', '--appendonly', 'no', '--port', String(REDIS.port), '--daemonize', 'yes']);
  for (let tries = 0; tries < 50; tries++) {
    if (await redisAnswers()) return;
    await sleep(100);
  }
  throw new Error('redis-server did not answer on 127.0.0.1:6379 within 5 s');
}

/** A BullMQ queue and worker on a queue of its own, posting every job to the sink. */
export class BullmqPeer {
  private constructor(
    private readonly queue: Queue<DeliveryJob>,
    private readonly worker: Worker<DeliveryJob>,
    private readonly pool: Pool,
  ) {}

  static async start(sink: Sink): Promise<BullmqPeer> {
    await ensureRedis();
    const name = `bench-${randomUUID()}`;
    const pool = new Pool(sink.url(''), { connections: PEER_CONCURRENCY });
    const queue = new Queue<DeliveryJob>(name, { connection: { ...REDIS } });
    const worker = new Worker<DeliveryJob>(
      name,
      async (job: Job<DeliveryJob>) => {
        const body = serialisePayload(buildPayload(job.data.event, job.data.webhookId));
        const headers = signatureHeaders({
          secrets: [SECRET],
          eventId: job.data.event.id,
          timestamp: Math.floor(Date.now() / 1000),
          body,
          version: 'bench',
        });
        const response = await pool.request({ method: 'POST', path: job.data.path, headers, body });
        await response.body.dump();
        if (response.statusCode < 200 || response.statusCode >= 300) throw new Error(`HTTP ${response.statusCode}`);
      },
      { connection: { ...REDIS, maxRetriesPerRequest: null }, concurrency: PEER_CONCURRENCY, autorun: true },
    );
    await queue.waitUntilReady();
    await worker.waitUntilReady();
    return new BullmqPeer(queue, worker, pool);
  }

  /** Enqueues one job per event; resolves once Redis has them all (the peer's "commit"). */
  async enqueue(events: PayloadEvent[], webhookId: string, path: string): Promise<void> {
    await this.queue.addBulk(
      events.map((event) => ({ name: 'delivery', data: { event, webhookId, path }, opts: { attempts: 5 } })),
    );
  }

  async stop(): Promise<void> {
    await this.worker.close();
    await this.queue.obliterate({ force: true });
    await this.queue.close();
    await this.pool.close();
  }
}

/** Deliveries/s of the peer: `total` jobs enqueued in batches of `batch` inside the timed window. */
export async function peerThroughput(sink: Sink, total: number, batch: number, events: (count: number) => PayloadEvent[]): Promise<number> {
  const peer = await BullmqPeer.start(sink);
  try {
    await sink.reset();
    const webhookId = randomUUID();
    const arrived = sink.waitFor(total, 300_000);
    const started = now();
    for (let enqueued = 0; enqueued < total; enqueued += batch) {
      await peer.enqueue(events(Math.min(batch, total - enqueued)), webhookId, '/peer');
    }
    await arrived;
    const seconds = (now() - started) / 1000;
    const { received } = await sink.stats();
    if (received !== total) throw new Error(`BullMQ peer: ${received} received, expected ${total}`);
    return total / seconds;
  } finally {
    await peer.stop();
  }
}
