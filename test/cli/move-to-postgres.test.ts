import { randomBytes } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, it } from 'vitest';
import { copyPgliteTemplate } from '../helpers/databases.ts';
import { databaseUrlFor } from '../helpers/postgres-url.ts';
import { runCli, serverGroup } from '../helpers/processes.ts';
import { startReceiver } from '../helpers/receiver.ts';

const START_TIMEOUT_MS = 90_000;
const servers = serverGroup();
afterAll(() => servers.cleanup());

/** A database made by CREATE DATABASE alone: no tables, as a new production server would have. */
async function createBlankPostgresDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `switchboard_move_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`).finally(() => admin.end());
  return {
    url: databaseUrlFor(adminUrl, name),
    async drop() {
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => dropper.end());
    },
  };
}

async function query<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

const adminUrl = process.env.DATABASE_URL;

describe.skipIf(!adminUrl)('switchboard move-to-postgres', () => {
  it('moves a populated embedded database with deliveries in flight and failing, and the new server delivers them all', async () => {
    // Phase one: /ok answers, /slow never answers (its deliveries are in flight when the server dies), /flaky answers 503.
    let healthy = false;
    const hanging: http.ServerResponse[] = [];
    const receiver = await startReceiver((request, response) => {
      if (healthy || request.path === '/ok') return response.end('ok');
      if (request.path === '/slow') return void hanging.push(response);
      response.statusCode = 503;
      response.end('down');
    });
    const dataDir = copyPgliteTemplate();
    servers.removeLater(dataDir);
    const target = await createBlankPostgresDatabase(adminUrl!);
    const apiKey = 'sb_move_test_key_0123456789abcdef';
    const env = {
      SWITCHBOARD_API_KEY: apiKey,
      SWITCHBOARD_ENCRYPTION_KEY: 'move-test-encryption-key-0123456789',
      SWITCHBOARD_RETRY_SCHEDULE: '1s,1s,1s,1s,1s,1s,1s,1s',
      SWITCHBOARD_DELIVERY_TIMEOUT: '60s',
    };
    try {
      const source = servers.serve({ ...env, DATA_DIR: dataDir, DATABASE_URL: '' });
      const [, sourceUrl] = await source.waitFor(/UI:\s+(http:\/\/[^/]+)\//, START_TIMEOUT_MS);
      const graphql = async (url: string, text: string, variables?: Record<string, unknown>) => {
        const response = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
          body: JSON.stringify({ query: text, variables }),
        });
        return (await response.json()) as { data: any; errors?: unknown };
      };
      const secrets = new Map<string, string>();
      for (const path of ['/ok', '/slow', '/flaky']) {
        const created = await graphql(sourceUrl!, 'mutation($url: String!) { createWebhook(input: {targetUrl: $url}) { id secret } }', {
          url: `${receiver.url}${path}`,
        });
        expect(created.errors).toBeUndefined();
        secrets.set(path, created.data.createWebhook.secret);
      }
      for (let i = 0; i < 5; i++) {
        expect((await graphql(sourceUrl!, `mutation { createPerson(data: {firstName: "P${i}"}) { id } }`)).errors).toBeUndefined();
      }
      const arrived = (path: string) => receiver.requests.filter((request) => request.path === path).length;
      await expect.poll(() => [arrived('/ok'), hanging.length >= 1, arrived('/flaky') >= 5], { timeout: 60_000 }).toEqual([5, true, true]);
      await source.kill('SIGKILL');

      // The move, with a progress line per table and a verified summary.
      const move = runCli(['move', '--to', target.url], { DATA_DIR: dataDir, DATABASE_URL: '' });
      expect(await move.exited, move.output()).toBe(0);
      for (const table of ['workspaces', 'api_keys', 'webhooks', 'events', 'deliveries', 'delivery_attempts', 'people']) {
        expect(move.output()).toMatch(new RegExp(`^${table}: \\d+ of \\d+ rows$`, 'm'));
        expect(move.output()).toMatch(new RegExp(`^  ${table} +\\d+ rows  checksum ok$`, 'm'));
      }
      expect(move.output()).toMatch(/counts and checksums match/);
      const counts = (url: string) =>
        query<{ events: number; deliveries: number; attempts: number; people: number }>(
          url,
          `SELECT (SELECT count(*)::int FROM events) AS events, (SELECT count(*)::int FROM deliveries) AS deliveries,
                  (SELECT count(*)::int FROM delivery_attempts) AS attempts, (SELECT count(*)::int FROM people) AS people`,
        );
      const [moved] = await counts(target.url);
      expect(moved).toMatchObject({ events: 5, deliveries: 15, people: 5 });
      // Attempts are stored in batches: the kill loses the ones not yet written (those deliveries are sent again).
      expect(moved!.attempts).toBeGreaterThan(0);

      // A second move into it is refused and changes nothing.
      const again = runCli(['move-to-postgres', '--to', target.url], { DATA_DIR: dataDir, DATABASE_URL: '' });
      expect(await again.exited).toBe(2);
      expect(again.output()).toMatch(/the target database is not empty \(rows in [a-z_, ]*workspaces/);
      expect(await counts(target.url)).toEqual([moved]);

      // Phase two: every receiver answers; a server on PostgreSQL continues every pending delivery.
      healthy = true;
      for (const response of hanging) response.destroy();
      const before = receiver.requests.length;
      const server = servers.serve({ ...env, DATABASE_URL: target.url });
      const [, url] = await server.waitFor(/UI:\s+(http:\/\/[^/]+)\//, START_TIMEOUT_MS);
      await expect
        .poll(async () => (await query<{ open: number }>(target.url, `SELECT count(*)::int AS open FROM deliveries WHERE status <> 'SUCCEEDED'`))[0]!.open, {
          timeout: 60_000,
          interval: 200,
        })
        .toBe(0);
      // Each endpoint got each event, and what came after the move is signed with the secrets moved (encrypted).
      for (const [path, secret] of secrets) {
        const bodies = receiver.requests.filter((request) => request.path === path);
        expect(new Set(bodies.map((request) => request.headers['webhook-id'])).size, path).toBe(5);
        for (const request of receiver.requests.slice(before).filter((request) => request.path === path)) {
          expect(() => new Webhook(secret).verify(request.body, request.headers as Record<string, string>)).not.toThrow();
        }
      }
      const webhooks = await graphql(url!, '{ webhooks { targetUrl } people { edges { node { firstName } } } }');
      expect(webhooks.data.webhooks.map((webhook: { targetUrl: string }) => new URL(webhook.targetUrl).pathname).sort()).toEqual([
        '/flaky',
        '/ok',
        '/slow',
      ]);
      expect(webhooks.data.people.edges).toHaveLength(5);
      expect(await server.kill('SIGTERM')).toBe(0);
    } finally {
      await receiver.close();
      await target.drop();
    }
  }, 300_000);

  it('refuses a target that is not a PostgreSQL URL, or none', async () => {
    const none = runCli(['move-to-postgres']);
    expect(await none.exited).toBe(2);
    expect(none.output()).toMatch(/give the target with --to postgres:/);
    const wrong = runCli(['move-to-postgres', '--to', 'mysql://x']);
    expect(await wrong.exited).toBe(2);
    expect(wrong.output()).toMatch(/--to "mysql:\/\/x" must start with postgres:\/\//);
  });
});
