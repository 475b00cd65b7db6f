import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startSwitchboard, type RunningSwitchboard } from '../../src/server.ts';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { TEST_API_KEY } from '../helpers/app.ts';
import { resealWithNewKey } from '../../src/cli/secrets.ts';
import { twentySignature } from '../../src/domain/signing.ts';
import { createSecretBox } from '../../src/webhooks/secret-box.ts';
import { copyPgliteTemplate, createChildProcessDatabase, createPostgresDatabase, DATABASE_KINDS } from '../helpers/databases.ts';
import { insertWebhookRow, insertWorkspaceRow } from '../helpers/fixtures.ts';
import { runCli } from '../helpers/processes.ts';
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

describe.each(DATABASE_KINDS)('secrets at rest by default on %s: a generated key, sealed at start, resealed under a new key', (kind) => {
  let storage: Awaited<ReturnType<typeof openStorage>>;
  let receiver: Receiver;
  let dataDir: string;
  const running: RunningSwitchboard[] = [];
  const configFor = (env: Record<string, string> = {}) =>
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      SWITCHBOARD_API_KEY: TEST_API_KEY,
      DATA_DIR: dataDir,
      SWITCHBOARD_RETRY_SCHEDULE: '100ms',
      SWITCHBOARD_DELIVERY_TIMEOUT: '2s',
      ...env,
    });
  const start = async (env: Record<string, string> = {}) => {
    const server = await startSwitchboard({ config: configFor(env), role: 'all', database: storage.database, logger: createLogger('silent') });
    running.push(server);
    return server;
  };
  const graphqlOn = async (server: RunningSwitchboard, query: string, variables?: Record<string, unknown>) => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_API_KEY}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
  };
  const keyFile = () => path.join(dataDir, 'switchboard.key');
  const readKey = () => fs.readFileSync(keyFile(), 'utf8').trim();
  const storedRows = () => storage.database.db.selectFrom('webhooks').select(['id', 'secret', 'previous_secret']).orderBy('id').execute();
  /** Creates a person and checks the delivery it causes carries both signatures of the rotated webhook. */
  const expectSignedDelivery = async (server: RunningSwitchboard, current: string, previous: string) => {
    const before = receiver.requests.length;
    const created = await graphqlOn(server, 'mutation { createPerson(data: { firstName: "Signed" }) { id } }');
    expect(created.body.errors).toBeUndefined();
    await receiver.waitForCount(before + 1);
    const request = receiver.requests[before]!;
    const timestamp = Number(request.headers['x-twenty-timestamp']);
    expect(request.headers['x-twenty-signature']).toBe(twentySignature(current, timestamp, request.body));
    expect(request.headers['x-twenty-signature-previous']).toBe(twentySignature(previous, timestamp, request.body));
  };

  beforeAll(async () => {
    storage = await openStorage(kind);
    receiver = await startReceiver();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-keys-'));
  });
  afterAll(async () => {
    for (const server of running) await server.stop().catch(() => {});
    await receiver?.close();
    await storage?.dispose();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('generates an owner-only key, seals old plain rows at start, reseals everything, and deliveries still verify', async () => {
    // A row stored in plain text by an earlier version, before any key existed.
    const legacySecret = 'whsec_bGVnYWN5LXBsYWluLXRleHQtc2VjcmV0LTAx';
    const legacyWorkspace = await insertWorkspaceRow(storage.database.db);
    await insertWebhookRow(storage.database.db, { workspaceId: legacyWorkspace, targetUrl: 'https://legacy.example.com/', secret: legacySecret });

    let server = await start();
    expect(fs.statSync(keyFile()).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);
    const firstKey = readKey();
    const [legacy] = await storedRows();
    expect(legacy!.secret).toMatch(/^enc:v1:/);
    expect(createSecretBox(firstKey).open(legacy!.secret)).toBe(legacySecret);

    const created = await graphqlOn(server, 'mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id secret } }', {
      input: { targetUrl: `${receiver.url}/hook`, operations: ['person.created'] },
    });
    const { id: webhookId, secret: firstSecret } = created.body.data.createWebhook;
    const rotated = await graphqlOn(server, 'mutation($id: UUID!) { rotateWebhookSecret(id: $id) { secret } }', { id: webhookId });
    const secondSecret: string = rotated.body.data.rotateWebhookSecret.secret;
    await expectSignedDelivery(server, secondSecret, firstSecret);
    await server.stop();

    // Reseal under a generated key: every row, the previous (rotation) secret included.
    const outcome = await resealWithNewKey(configFor(), storage.database, undefined);
    expect(outcome.report).toMatchObject({ rewritten: 2, unopenable: 0 });
    const secondKey = readKey();
    expect(secondKey).not.toBe(firstKey);
    expect(fs.statSync(keyFile()).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(`${keyFile()}.next`)).toBe(false);
    for (const row of await storedRows()) {
      for (const stored of [row.secret, row.previous_secret].filter((value): value is string => value !== null)) {
        expect(stored).toMatch(/^enc:v1:/);
        expect(() => createSecretBox(firstKey).open(stored)).toThrow(/sealed with another encryption key/);
        expect([legacySecret, firstSecret, secondSecret]).toContain(createSecretBox(secondKey).open(stored));
      }
    }

    // A reseal that stopped half way: the next key is on disk and one row is sealed with it, the other not.
    const thirdKey = 'a-third-key-chosen-by-the-operator-0001';
    fs.writeFileSync(`${keyFile()}.next`, `${thirdKey}\n`, { mode: 0o600 });
    const [first] = await storedRows();
    const moveToThird = (stored: string) => createSecretBox(thirdKey).seal(createSecretBox(secondKey).open(stored));
    await storage.database.db
      .updateTable('webhooks')
      .set({ secret: moveToThird(first!.secret), previous_secret: first!.previous_secret && moveToThird(first!.previous_secret) })
      .where('id', '=', first!.id)
      .execute();
    await expect(start()).rejects.toThrow(/1 webhook\(s\) hold a secret that the key file .* does not open.*reseal` was interrupted: run it again/);
    const resumed = await resealWithNewKey(configFor(), storage.database, undefined);
    expect(resumed.report).toMatchObject({ rewritten: 1, unchanged: 1, unopenable: 0 });
    expect(readKey()).toBe(thirdKey);

    server = await start();
    await expectSignedDelivery(server, secondSecret, firstSecret);

    // A wrong key: refused at start, naming the variable, before anything is written with it.
    await expect(start({ SWITCHBOARD_ENCRYPTION_KEY: 'not-the-key-these-were-sealed-with' })).rejects.toThrow(
      /2 webhook\(s\) hold a secret that SWITCHBOARD_ENCRYPTION_KEY does not open/,
    );
    // A row sealed with another key appearing while running: its use is a clear 503, not a 500.
    const foreign = await insertWebhookRow(storage.database.db, {
      workspaceId: (await storage.database.db.selectFrom('workspaces').select('id').where('name', '=', 'default').executeTakeFirstOrThrow()).id,
      targetUrl: `${receiver.url}/foreign`,
      secret: createSecretBox('some-other-installation-key-0001').seal('whsec_Zm9yZWlnbi1zZWNyZXQtMDAwMDAwMDA='),
    });
    const test = await graphqlOn(server, 'mutation($id: UUID!) { sendTestWebhook(id: $id) { statusCode } }', { id: foreign.id });
    expect(test.status).toBe(503);
    expect(test.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    expect(test.body.errors?.[0]?.message).toMatch(/webhook secret cannot be opened: it was sealed with another encryption key/);
    await storage.database.db.deleteFrom('webhook_operations').where('webhook_id', '=', foreign.id).execute();
    await storage.database.db.deleteFrom('webhooks').where('id', '=', foreign.id).execute();
    await server.stop();

    // Every stored byte: no secret written since the key existed, and no key. (The legacy row's plain text was
    // written before: its old row version may linger in PGlite's files until the space is reused; the live
    // row is sealed, as checked above, and pg_dump shows live rows only.)
    if (kind === 'pglite') await storage.database.close();
    const dump = await storage.dump();
    expect(dump).toContain('https://legacy.example.com/');
    for (const text of [firstSecret, secondSecret, firstKey, secondKey, thirdKey]) expect(dump).not.toContain(text);
    if (kind === 'postgres') expect(dump).not.toContain(legacySecret);
  }, 180_000);

  it('`switchboard secrets reseal` as a command: seals under a new key file, refuses a short key by name', async () => {
    const child = await createChildProcessDatabase(kind);
    try {
      const plain = 'whsec_Y29tbWFuZC1saW5lLXBsYWluLXNlY3JldA==';
      const database = await openDatabase(child.env.DATABASE_URL ? { databaseUrl: child.env.DATABASE_URL } : { dataDir: child.env.DATA_DIR });
      try {
        await insertWebhookRow(database.db, { workspaceId: await insertWorkspaceRow(database.db), targetUrl: 'https://cli.example.com/', secret: plain });
      } finally {
        await database.close();
      }
      const short = runCli(['secrets', 'reseal', '--new-key', 'short'], child.env);
      expect(await short.exited).toBe(2);
      expect(short.output()).toMatch(/--new-key: must be at least 16 characters/);

      const reseal = runCli(['secrets', 'reseal'], child.env);
      expect(await reseal.exited, reseal.output()).toBe(0);
      expect(reseal.output()).toMatch(/Resealed 1 webhook\(s\) under the new key/);
      const file = path.join(child.env.DATA_DIR!, 'switchboard.key');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      const reopened = await openDatabase(child.env.DATABASE_URL ? { databaseUrl: child.env.DATABASE_URL } : { dataDir: child.env.DATA_DIR });
      try {
        const row = await reopened.db.selectFrom('webhooks').select('secret').executeTakeFirstOrThrow();
        expect(row.secret).toMatch(/^enc:v1:/);
        expect(createSecretBox(fs.readFileSync(file, 'utf8').trim()).open(row.secret)).toBe(plain);
      } finally {
        await reopened.close();
      }
    } finally {
      await child.dispose();
    }
  }, 120_000);
});
