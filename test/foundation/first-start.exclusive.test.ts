import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, serverGroup } from '../helpers/processes.ts';

// The first start is timed (the product promises an answer within 15 s), so it runs in the exclusive run,
// alone on the machine, where other test files cannot slow it.
const servers = serverGroup();
const serve = servers.serve;
afterAll(() => servers.cleanup());

describe('switchboard serve on a new embedded database', () => {
  it('creates workspace default, prints one key and the UI URL, and answers within 15 s', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-fresh-'));
    servers.removeLater(dataDir);
    const started = Date.now();
    const server = serve({ DATA_DIR: dataDir, DATABASE_URL: '' });
    const [, url] = await server.waitFor(/UI:\s+(http:\/\/127\.0\.0\.1:\d+)\//, 15_000);
    const [, key] = await server.waitFor(/^\s+(sb_[A-Za-z0-9_-]{43})$/m);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: '{ currentWorkspace { name } }' }),
    });
    expect(await response.json()).toEqual({ data: { currentWorkspace: { name: 'default' } } });
    expect(Date.now() - started).toBeLessThan(15_000);

    // The lock: a second process on the same folder fails at once and says why.
    const second = runCli(['serve'], { PORT: '0', DATA_DIR: dataDir, DATABASE_URL: '' });
    expect(await second.exited).not.toBe(0);
    expect(second.output()).toMatch(/DATA_DIR .* is in use by process \d+/);

    // Graceful shutdown releases the lock; the next start prints no new key.
    expect(await server.kill('SIGTERM')).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'switchboard.lock'))).toBe(false);
    const again = serve({ DATA_DIR: dataDir, DATABASE_URL: '' });
    await again.waitFor(/UI:/);
    expect(again.output()).not.toMatch(/sb_[A-Za-z0-9_-]{43}/);
    await again.kill('SIGTERM');
  });
});
