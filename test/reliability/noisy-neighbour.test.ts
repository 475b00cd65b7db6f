import http from 'node:http';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/domain/clock.ts';
import { openDatabase } from '../../src/storage/database.ts';
import { createWorkspaceService } from '../../src/workspaces/api-keys.ts';
import { createChildProcessDatabase, DATABASE_KINDS } from '../helpers/databases.ts';
import { serverGroup } from '../helpers/processes.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';

/** What the noisy workspace may do: the limits an operator hosting several tenants sets (README, Configuration). */
const SERVER_LIMITS = {
  SWITCHBOARD_RATE_LIMIT_WINDOW: '1s',
  SWITCHBOARD_RATE_LIMIT_PER_KEY: '50',
};
const HOSTILE_WEBHOOKS = 20;
const FLOOD_CONNECTIONS = 8;
const ROUNDS = 3;
const PHASE_MS = 2_500;
const WARMUP_WRITES = 30;
const MAX_SLOWDOWN = 1.2;

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

describe.each(DATABASE_KINDS)('noisy neighbour on %s', (kind) => {
  const servers = serverGroup();
  const closers: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    await servers.cleanup();
    for (const close of closers.reverse()) await close();
  });

  it(`one workspace flooding the API and owning a hostile receiver slows another's deliveries by at most ${Math.round((MAX_SLOWDOWN - 1) * 100)} %`, async () => {
    // Two workspaces with their keys, written before the server starts (PGlite allows one process on its folder).
    const database = await createChildProcessDatabase(kind);
    closers.push(() => database.dispose());
    const seeding = kind === 'pglite' ? await openDatabase({ pglite: await PGlite.create(database.env.DATA_DIR!) }) : await openDatabase({ databaseUrl: database.env.DATABASE_URL! });
    const workspaces = createWorkspaceService(seeding.db, systemClock);
    const keyOf = async (name: string) => {
      const { workspace } = await workspaces.ensureWorkspace(name);
      return (await workspaces.createApiKey(workspace.id, 'test')).key;
    };
    const quietKey = await keyOf('quiet');
    const noisyKey = await keyOf('noisy');
    await seeding.close();

    const server = servers.serve({ ...database.env, ...SERVER_LIMITS, LOG_LEVEL: 'error' });
    const url = (await server.waitFor(/GraphQL: (http:\/\/\S+)\/graphql/, 60_000))[1]!;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    closers.push(async () => agent.destroy());

    const post = (key: string, query: string, variables?: unknown) =>
      new Promise<{ status: number; body: any }>((resolve, reject) => {
        const body = JSON.stringify({ query, variables });
        const request = http.request(`${url}/graphql`, {
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${key}` },
        });
        request.on('response', (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
        });
        request.on('error', reject);
        request.end(body);
      });

    // The quiet workspace's healthy receiver stamps when each record's delivery arrived.
    const arrivals = new Map<string, number>();
    const healthy: Receiver = await startReceiver((request, response) => {
      const id = (JSON.parse(request.body) as { record?: { id?: string } }).record?.id;
      if (id) arrivals.set(id, request.at);
      response.end('ok');
    });
    closers.push(() => healthy.close());
    // The noisy workspace's endpoints: half never answer (each holds its slots until the delivery timeout), half fail at once.
    const hostile: Receiver = await startReceiver((request, response) => {
      if (Number(/(\d+)$/.exec(request.path)?.[1]) % 2 === 0) return;
      response.statusCode = 500;
      response.end('no');
    });
    closers.push(() => hostile.close());

    const create = 'mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }';
    expect((await post(quietKey, create, { input: { targetUrl: `${healthy.url}/quiet`, operations: ['person.created'] } })).body.errors).toBeUndefined();
    for (let i = 0; i < HOSTILE_WEBHOOKS; i++) {
      expect((await post(noisyKey, create, { input: { targetUrl: `${hostile.url}/hostile/${i}` } })).body.errors).toBeUndefined();
    }

    const createPerson = 'mutation ($data: PersonCreateInput!) { createPerson(data: $data) { id } }';
    const pendingWrites = new Map<string, number>();
    /** One quiet write; its delivery latency is measured from the write's start to the arrival at the receiver. */
    const quietWrite = async (index: number) => {
      const started = performance.now();
      const answer = await post(quietKey, createPerson, { data: { firstName: 'Quiet', lastName: String(index) } });
      expect(answer.status).toBe(200);
      pendingWrites.set(answer.body.data.createPerson.id, started);
    };
    const latenciesOf = async (ids: string[]) => {
      const deadline = performance.now() + 30_000;
      while (ids.some((id) => !arrivals.has(id)) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      return ids.map((id) => {
        const arrived = arrivals.get(id);
        if (arrived === undefined) throw new Error(`the quiet workspace's delivery of ${id} never arrived`);
        return arrived - pendingWrites.get(id)!;
      });
    };
    /** Quiet writes one after another for a phase; returns the delivery latencies. */
    const quietPhase = async () => {
      const ids: string[] = [];
      const end = performance.now() + PHASE_MS;
      for (let i = 0; performance.now() < end; i++) {
        const before = pendingWrites.size;
        await quietWrite(i);
        ids.push([...pendingWrites.keys()][before]!);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return latenciesOf(ids);
    };

    let flooding = false;
    let floodAnswers = 0;
    let floodLimited = 0;
    const floodLoop = async () => {
      for (let i = 0; flooding; i++) {
        // An attacker ignoring Retry-After: every refusal is followed by the next request at once.
        const answer = await post(noisyKey, createPerson, { data: { firstName: 'Noisy', lastName: String(i) } });
        floodAnswers += 1;
        if (answer.status === 429) floodLimited += 1;
      }
    };

    for (let i = 0; i < WARMUP_WRITES; i++) await quietWrite(i);
    await latenciesOf([...pendingWrites.keys()]);

    // Alternating phases, so whatever else loads the machine falls on both sides alike.
    const baseline: number[] = [];
    const flooded: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      baseline.push(...(await quietPhase()));
      flooding = true;
      const flood = Array.from({ length: FLOOD_CONNECTIONS }, floodLoop);
      flooded.push(...(await quietPhase()));
      flooding = false;
      await Promise.all(flood);
    }

    const ratio = median(flooded) / median(baseline);
    console.log(
      `noisy neighbour (${kind}): quiet workspace's delivery latency p50 ${median(baseline).toFixed(1)} ms alone, ` +
        `${median(flooded).toFixed(1)} ms while the other floods (${floodAnswers} requests, ${floodLimited} answered 429, ` +
        `${hostile.requests.length} POSTs to its hostile endpoints): ratio ${ratio.toFixed(2)} (at most ${MAX_SLOWDOWN})`,
    );
    expect(floodLimited).toBeGreaterThan(0);
    expect(hostile.requests.length).toBeGreaterThan(0);
    expect(ratio).toBeLessThanOrEqual(MAX_SLOWDOWN);
  }, 120_000);
});
