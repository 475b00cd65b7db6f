import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createChildProcessDatabase, DATABASE_KINDS } from '../helpers/databases.ts';
import { runCli, serverGroup } from '../helpers/processes.ts';

// Every step is a process of its own (a tsx start each): on a loaded machine that is slow, not stuck.
const START_TIMEOUT_MS = 90_000;
const TEST_TIMEOUT_MS = 240_000;

const servers = serverGroup();
afterAll(() => servers.cleanup());

async function cli(args: string[], env: Record<string, string>): Promise<{ code: number | string; output: string }> {
  const run = runCli(args, env);
  const code = await run.exited;
  return { code, output: run.output() };
}

async function currentWorkspace(url: string, key: string): Promise<{ status: number; name?: string }> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query: '{ currentWorkspace { name } }' }),
  });
  const body = (await response.json()) as { data?: { currentWorkspace?: { name: string } } };
  return { status: response.status, name: body.data?.currentWorkspace?.name };
}

function postToSocket(socketPath: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath, path: '/apikeys', method: 'POST' }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode!, body: text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe.each(DATABASE_KINDS)('switchboard apikey while a server runs on %s', (kind) => {
  it('creates a key that works at once, lists it, and revokes it by its prefix (then 401)', async () => {
    const database = await createChildProcessDatabase(kind);
    try {
      const server = servers.serve(database.env);
      const [, url] = await server.waitFor(/UI:\s+(http:\/\/[^/]+)\//, START_TIMEOUT_MS);

      const created = await cli(['apikey', 'create', '--name', 'recovered'], database.env);
      expect(created.code, created.output).toBe(0);
      const key = created.output.trim().split('\n').pop()!;
      expect(key).toMatch(/^sb_/);
      expect(await currentWorkspace(url!, key)).toEqual({ status: 200, name: 'default' });

      const listed = await cli(['apikey', 'list'], database.env);
      expect(listed.code, listed.output).toBe(0);
      const row = listed.output.split('\n').find((line) => line.includes('recovered'));
      expect(row).toContain(key.slice(0, 11));
      expect(row).toMatch(/ - *$/); // not revoked

      const revoked = await cli(['apikey', 'revoke', key.slice(0, 11)], database.env);
      expect(revoked.code, revoked.output).toBe(0);
      expect(revoked.output).toContain(`Revoked ${key.slice(0, 11)}`);
      expect((await currentWorkspace(url!, key)).status).toBe(401);
      const afterwards = await cli(['apikey', 'list'], database.env);
      expect(afterwards.output.split('\n').find((line) => line.includes('recovered'))).toMatch(/\d{4}-\d\d-\d\dT[\d:.]+Z$/);

      const unknown = await cli(['apikey', 'revoke', 'sb_nosuchkey'], database.env);
      expect(unknown.code).toBe(2);
      expect(unknown.output).toMatch(/API key sb_nosuchkey not found/);
      const noWorkspace = await cli(['apikey', 'list', '--workspace', 'nobody'], database.env);
      expect(noWorkspace.code).toBe(2);
      expect(noWorkspace.output).toMatch(/workspace nobody not found/);

      expect(await server.kill('SIGTERM')).toBe(0);
    } finally {
      await database.dispose();
    }
  }, TEST_TIMEOUT_MS);
});

describe('the local admin socket of a server on the embedded database', () => {
  it('is owner-only in an owner-only folder, refuses malformed requests, and is removed at stop', async () => {
    const database = await createChildProcessDatabase('pglite');
    try {
      const dataDir = database.env.DATA_DIR!;
      const socketPath = path.join(dataDir, 'switchboard.sock');
      const server = servers.serve(database.env);
      await server.waitFor(/UI:/, START_TIMEOUT_MS);
      expect(fs.statSync(socketPath).isSocket()).toBe(true);
      expect(fs.statSync(socketPath).mode & 0o777).toBe(0o600);
      expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);

      expect(await postToSocket(socketPath, 'not json')).toEqual({ status: 400, body: JSON.stringify({ error: 'request: not valid JSON' }) });
      const badCommand = await postToSocket(socketPath, JSON.stringify({ command: 'drop', workspace: 'default' }));
      expect(badCommand.status).toBe(400);
      expect(badCommand.body).toMatch(/command: must be create, list or revoke/);
      const longName = await postToSocket(socketPath, JSON.stringify({ command: 'create', workspace: 'default', name: 'x'.repeat(201) }));
      expect(longName.status).toBe(400);
      expect(longName.body).toMatch(/name: must be 0 to 200 characters/);
      const noWorkspace = await postToSocket(socketPath, JSON.stringify({ command: 'create', workspace: 42 }));
      expect(noWorkspace.body).toMatch(/workspace: must be a string/);
      const tooBig = await postToSocket(socketPath, JSON.stringify({ command: 'list', workspace: 'x'.repeat(20_000) }));
      expect(tooBig.status).toBe(413);

      // None of these created anything: the first start's key is the only one.
      const listed = JSON.parse((await postToSocket(socketPath, JSON.stringify({ command: 'list', workspace: 'default' }))).body);
      expect(listed.apiKeys).toHaveLength(1);

      expect(await server.kill('SIGTERM')).toBe(0);
      expect(fs.existsSync(socketPath)).toBe(false);

      // With no server, the command opens the folder itself.
      const direct = await cli(['apikey', 'list'], database.env);
      expect(direct.code, direct.output).toBe(0);
      expect(direct.output).toMatch(/^ID\s+PREFIX/);
    } finally {
      await database.dispose();
    }
  }, TEST_TIMEOUT_MS);
});
