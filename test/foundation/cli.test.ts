import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyPgliteTemplate, createChildProcessDatabase, DATABASE_KINDS } from '../helpers/databases.ts';
import { runCli, serverGroup } from '../helpers/processes.ts';

const servers = serverGroup();
const serve = servers.serve;
afterAll(() => servers.cleanup());

describe('switchboard serve on a new embedded database', () => {
  it('takes over a lock left by a dead process', async () => {
    const dataDir = copyPgliteTemplate();
    servers.removeLater(dataDir);
    fs.writeFileSync(path.join(dataDir, 'switchboard.lock'), '999999');
    const server = serve({ DATA_DIR: dataDir, DATABASE_URL: '' });
    await server.waitFor(/UI:/);
    await server.kill('SIGTERM');
  });
});

describe.each(DATABASE_KINDS)('switchboard commands on %s', (kind) => {
  it('migrate, apikey create and SWITCHBOARD_API_KEY', async () => {
    const database = await createChildProcessDatabase(kind);
    try {
      const migrate = runCli(['migrate'], database.env);
      expect(await migrate.exited).toBe(0);
      expect(migrate.output()).toMatch(/up to date|Applied/);

      const create = runCli(['apikey', 'create', '--workspace', 'acme'], database.env);
      expect(await create.exited).toBe(0);
      const acmeKey = create.output().trim().split('\n').pop()!;
      expect(acmeKey).toMatch(/^sb_/);

      const configured = 'sb_configured_key_0123456789';
      const server = serve({ ...database.env, SWITCHBOARD_API_KEY: configured });
      const [, url] = await server.waitFor(/UI:\s+(http:\/\/[^/]+)\//);
      const ask = async (key: string) =>
        (await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ query: '{ currentWorkspace { name } }' }),
        }).then((response) => response.json())) as { data: { currentWorkspace: { name: string } } };
      expect((await ask(configured)).data.currentWorkspace.name).toBe('default');
      expect((await ask(acmeKey)).data.currentWorkspace.name).toBe('acme');
      await server.kill('SIGTERM');
    } finally {
      await database.dispose();
    }
  });

  it('refuses an unknown role', async () => {
    const result = runCli(['serve', '--role', 'everything']);
    expect(await result.exited).toBe(2);
    expect(result.output()).toMatch(/--role must be all, api or worker/);
  });
});
