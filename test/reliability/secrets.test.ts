import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startSwitchboard, type RunningSwitchboard } from '../../src/server.ts';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { TEST_API_KEY } from '../helpers/app.ts';
import { copyPgliteTemplate, createPostgresDatabase, DATABASE_KINDS } from '../helpers/databases.ts';
import { insertWebhookRow } from '../helpers/fixtures.ts';
import { eventually, startReceiver, type Receiver } from '../helpers/receiver.ts';

/** Every byte the database keeps: pg_dump for PostgreSQL, every file of the data folder (WAL included) for PGlite. */
type DumpReader = () => Promise<string>;

async function openStorage(kind: string): Promise<{ database: Database; dump: DumpReader; dispose(): Promise<void> }> {
  if (kind === 'pglite') {
    const dataDir = copyPgliteTemplate();
    const database = await openDatabase({ pglite: await PGlite.create(dataDir) });
    const readAll = (dir: string): string =>
      fs.readdirSync(dir, { withFileTypes: true })
        .map((entry) => (entry.isDirectory() ? readAll(path.join(dir, entry.name)) : fs.readFileSync(path.join(dir, entry.name)).toString('latin1')))
        .join('\n');
    return {
      database,
      // Closing flushes PGlite's data folder; the test reads it after the server has stopped.
      dump: async () => readAll(dataDir),
      async dispose() {
        await database.close().catch(() => {});
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const created = await createPostgresDatabase();
  const database = await openDatabase({ databaseUrl: created.url });
  return {
    database,
    dump: async () => execFileSync('pg_dump', ['--data-only', created.url], { maxBuffer: 256 * 2 ** 20 }).toString('latin1'),
    async dispose() {
      await database.close().catch(() => {});
      await created.drop();
    },
  };
}

describe.each(DATABASE_KINDS)('secrets on %s: only in create/rotate answers, never in logs, encrypted at rest', (kind) => {
  let server: RunningSwitchboard;
  let storage: Awaited<ReturnType<typeof openStorage>>;
  let receiver: Receiver;
  const logLines: string[] = [];
  const graphql = async (query: string, variables?: Record<string, unknown>, apiKey = TEST_API_KEY) => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, text: await response.text() };
  };
  const rest = async (method: string, url: string, body?: unknown) => {
    const response = await fetch(`${server.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${TEST_API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, text: await response.text() };
  };

  beforeAll(async () => {
    storage = await openStorage(kind);
    // Every first attempt of an event fails (500), the retry succeeds: both paths are logged.
    const seen = new Set<string>();
    receiver = await startReceiver((request, response) => {
      const id = String(request.headers['webhook-id']);
      response.statusCode = seen.has(id) ? 200 : 500;
      seen.add(id);
      response.end(seen.size % 2 ? 'ok' : 'echo');
    });
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      SWITCHBOARD_API_KEY: TEST_API_KEY,
      SWITCHBOARD_ENCRYPTION_KEY: 'reliability-suite-encryption-key',
      SWITCHBOARD_RETRY_SCHEDULE: '100ms,100ms',
      SWITCHBOARD_DELIVERY_TIMEOUT: '1s',
    });
    const logger = createLogger('trace', { write: (line: string) => void logLines.push(line) });
    server = await startSwitchboard({ config, role: 'all', database: storage.database, logger });
  });
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
    await storage?.dispose();
  });

  it('keeps webhook secrets and API keys out of every other answer, every log line and the stored bytes', async () => {
    const answers: string[] = [];
    const keep = <T extends { text: string }>(answer: T): T => (answers.push(answer.text), answer);

    // Create and rotate: the only two answers that may carry a secret.
    const created = await graphql(
      'mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id secret } }',
      { input: { targetUrl: `${receiver.url}/hook`, operations: ['person.*'] } },
    );
    const { id: webhookId, secret: firstSecret } = JSON.parse(created.text).data.createWebhook;
    const chosen = await rest('POST', '/rest/webhooks', { targetUrl: 'http://127.0.0.1:9/closed', secret: 'whsec_Y2hvc2VuLWJ5LXRoZS1jbGllbnQtMDAwMQ==' });
    const chosenSecret = 'whsec_Y2hvc2VuLWJ5LXRoZS1jbGllbnQtMDAwMQ==';
    const chosenId = JSON.parse(chosen.text).data.createWebhook.id;
    const rotated = await graphql('mutation($id: UUID!) { rotateWebhookSecret(id: $id) { secret } }', { id: webhookId });
    const secondSecret = JSON.parse(rotated.text).data.rotateWebhookSecret.secret;
    const newKey = JSON.parse((await graphql('mutation { createApiKey(name: "ci") { id key } }')).text).data.createApiKey.key;
    const secrets = [firstSecret, secondSecret, chosenSecret];
    const apiKeys = [TEST_API_KEY, newKey];
    expect(secrets.every((secret) => typeof secret === 'string' && secret.length > 10)).toBe(true);
    expect(new Set(secrets).size).toBe(3);

    // Deliver (first attempt fails, retry succeeds), fail against a closed port, send a test event.
    const person = JSON.parse(keep(await graphql('mutation { createPerson(data: { firstName: "Ada", email: "ada@example.com" }) { id } }')).text);
    expect(person.data.createPerson.id).toBeTruthy();
    keep(await graphql('mutation($id: UUID!) { sendTestWebhook(id: $id) { statusCode requestHeaders { name value } payload } }', { id: webhookId }));
    await eventually(
      () => storage.database.db.selectFrom('deliveries').select(['webhook_id', 'status', 'attempt_count']).execute(),
      (rows) => rows.some((row) => row.webhook_id === webhookId && row.status === 'SUCCEEDED') && rows.some((row) => row.webhook_id === chosenId && row.attempt_count >= 2),
    );
    // A request with a wrong key and one with a key sent in the wrong place.
    keep(await graphql('{ webhooks { id } }', undefined, `${firstSecret}`));

    // Every read of webhooks, deliveries and keys, both APIs.
    keep(await graphql('{ webhooks { id secret targetUrl } apiKeys { id key keyPrefix } }'));
    keep(await graphql('query($id: UUID!) { webhook(id: $id) { id secret } }', { id: webhookId }));
    const deliveries = keep(
      await graphql(
        'query($id: UUID!) { webhookDeliveries(webhookId: $id) { edges { node { id payload attempts { requestHeaders { name value } responseBody error } } } } }',
        { id: webhookId },
      ),
    );
    const deliveryId = JSON.parse(deliveries.text).data.webhookDeliveries.edges[0].node.id;
    keep(await graphql('query($id: UUID!) { webhookDelivery(id: $id) { id payload attempts { requestHeaders { name value } } } }', { id: deliveryId }));
    keep(await graphql('mutation($id: UUID!) { updateWebhook(input: { id: $id, description: "renamed" }) { id secret } }', { id: webhookId }));
    keep(await graphql('mutation($id: UUID!) { redeliver(deliveryId: $id) { id } }', { id: deliveryId }));
    for (const url of ['/rest/webhooks', `/rest/webhooks/${webhookId}`, `/rest/webhooks/${webhookId}/deliveries`, `/rest/webhooks/${webhookId}/stats`, `/rest/webhooks/${chosenId}/deliveries`]) {
      keep(await rest('GET', url));
    }
    keep(await rest('PATCH', `/rest/webhooks/${webhookId}`, { description: 'again' }));
    keep(await rest('DELETE', `/rest/webhooks/${chosenId}`));
    keep(await graphql('query { metrics: webhooks { id } }'));
    keep(await rest('GET', '/metrics'));

    for (const answer of answers) {
      for (const secret of [...secrets, ...apiKeys.slice(1)]) expect(answer).not.toContain(secret);
    }
    // The secret is not leaked piecewise either: its base64 body alone.
    for (const answer of answers) for (const secret of secrets) expect(answer).not.toContain(secret.replace(/^whsec_/, ''));

    const logs = logLines.join('');
    expect(logLines.length).toBeGreaterThan(0);
    for (const secret of [...secrets, ...apiKeys]) {
      expect(logs).not.toContain(secret);
      expect(logs).not.toContain(secret.replace(/^whsec_|^sb_/, ''));
    }

    // At rest: stop the server (PGlite flushes its folder on close) and read every stored byte.
    // A control row written in plain text proves the dump would show a secret if one were there.
    const control = 'whsec_Y29udHJvbC1wbGFpbi10ZXh0LXNlY3JldA==';
    await insertWebhookRow(storage.database.db, {
      workspaceId: (await storage.database.db.selectFrom('workspaces').select('id').executeTakeFirstOrThrow()).id,
      targetUrl: 'https://control.example.com/',
      secret: control,
    });
    await server.stop();
    if (kind === 'pglite') await storage.database.close();
    const dump = await storage.dump();
    expect(dump).toContain(control);
    for (const secret of [...secrets, ...apiKeys]) expect(dump).not.toContain(secret);
  });
});
