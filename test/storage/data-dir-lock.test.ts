import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireDataDirLock, pidNamespaceId, processStartTime, type DataDirLock } from '../../src/storage/data-dir-lock.ts';
import { copyPgliteTemplate } from '../helpers/databases.ts';
import { REPO_ROOT, runNode, serverGroup } from '../helpers/processes.ts';

const STALE_MS = 1_500;
/** A PID no process has: above the kernel's pid_max. */
const DEAD_PID = 2 ** 22 + 1;
const OTHER_NAMESPACE = 'another-container/pid:[4026530000]';

const folders: string[] = [];
const locks: DataDirLock[] = [];
function folder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-lock-'));
  folders.push(dir);
  return dir;
}
async function acquire(dir: string, onLost?: (error: Error) => void): Promise<DataDirLock> {
  const lock = await acquireDataDirLock(dir, { staleMs: STALE_MS, onLost });
  locks.push(lock);
  return lock;
}
const lockFile = (dir: string) => path.join(dir, 'switchboard.lock');
const readLock = (dir: string) => JSON.parse(fs.readFileSync(lockFile(dir), 'utf8')) as { instanceId: string; pid: number; heartbeatAt: number };

/** A lock file as another holder would have written it. */
function writeHolder(
  dir: string,
  holder: { pid: number; namespace: string | null; heartbeatAt: number; instanceId?: string; pidStartTime?: string },
): void {
  const record = { instanceId: holder.instanceId ?? 'other-instance', hostname: 'elsewhere', startedAt: new Date().toISOString(), ...holder };
  fs.writeFileSync(`${lockFile(dir)}.tmp`, JSON.stringify(record));
  fs.renameSync(`${lockFile(dir)}.tmp`, lockFile(dir));
}

/** Keeps a foreign holder's heartbeat fresh, as a live server in another container would. */
function liveForeignHolder(dir: string): () => void {
  const beat = () => writeHolder(dir, { pid: DEAD_PID, namespace: OTHER_NAMESPACE, heartbeatAt: Date.now() });
  beat();
  const timer = setInterval(beat, STALE_MS / 5);
  return () => clearInterval(timer);
}

afterAll(() => {
  for (const lock of locks) lock.release();
  for (const dir of folders) fs.rmSync(dir, { recursive: true, force: true });
});

describe('DATA_DIR lock: a lease that holds across PID namespaces', () => {
  it('writes an instance id and refreshes its heartbeat; release removes only its own lock', async () => {
    const dir = folder();
    const lock = await acquire(dir);
    const first = readLock(dir);
    expect(first).toMatchObject({ instanceId: lock.instanceId, pid: process.pid });
    const deadline = Date.now() + 10_000;
    while (readLock(dir).heartbeatAt === first.heartbeatAt && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readLock(dir).heartbeatAt).toBeGreaterThan(first.heartbeatAt);
    lock.release();
    expect(fs.existsSync(lockFile(dir))).toBe(false);
  });

  it('refuses while a holder in another PID namespace keeps its heartbeat fresh, though its PID is dead here', async () => {
    const dir = folder();
    const stop = liveForeignHolder(dir);
    try {
      const started = Date.now();
      await expect(acquire(dir)).rejects.toThrow(/is in use by process \d+ on elsewhere/);
      // Refused as soon as the heartbeat was seen to move, not after waiting out the stale time.
      expect(Date.now() - started).toBeLessThan(STALE_MS);
      expect(readLock(dir).instanceId).toBe('other-instance');
    } finally {
      stop();
    }
  });

  it('takes over from a crashed holder in another namespace once its heartbeat is stale, without manual steps', async () => {
    const dir = folder();
    const heartbeatAt = Date.now();
    writeHolder(dir, { pid: DEAD_PID, namespace: OTHER_NAMESPACE, heartbeatAt });
    const lock = await acquire(dir);
    const tookOverAt = Date.now();
    expect(tookOverAt - heartbeatAt).toBeGreaterThanOrEqual(STALE_MS);
    expect(tookOverAt - heartbeatAt).toBeLessThan(STALE_MS * 3);
    expect(readLock(dir).instanceId).toBe(lock.instanceId);
  });

  it('takes over at once from a holder in this namespace whose PID is dead', async () => {
    const dir = folder();
    writeHolder(dir, { pid: DEAD_PID, namespace: pidNamespaceId(), heartbeatAt: Date.now() });
    const started = Date.now();
    const lock = await acquire(dir);
    expect(Date.now() - started).toBeLessThan(STALE_MS / 2);
    expect(readLock(dir).instanceId).toBe(lock.instanceId);
  });

  it('a reused live PID does not block: a stale heartbeat is taken at once, a silent fresh one within the stale time', async () => {
    // The parent of this process is alive, in this namespace, and is not a Switchboard holding anything.
    const reused = process.ppid;
    const old = folder();
    writeHolder(old, { pid: reused, namespace: pidNamespaceId(), heartbeatAt: Date.now() - 10 * STALE_MS });
    const started = Date.now();
    await acquire(old);
    expect(Date.now() - started).toBeLessThan(STALE_MS / 2);

    const silent = folder();
    const heartbeatAt = Date.now();
    writeHolder(silent, { pid: reused, namespace: pidNamespaceId(), heartbeatAt });
    const lock = await acquire(silent);
    expect(Date.now() - heartbeatAt).toBeGreaterThanOrEqual(STALE_MS);
    expect(readLock(silent).instanceId).toBe(lock.instanceId);
  });

  it('in this namespace, a live PID is told from a reused one by its start time, at once', async () => {
    const reused = process.ppid;
    const dir = folder();
    writeHolder(dir, { pid: reused, namespace: pidNamespaceId(), heartbeatAt: Date.now(), pidStartTime: '1' });
    const started = Date.now();
    const lock = await acquire(dir);
    expect(Date.now() - started).toBeLessThan(STALE_MS / 2);
    expect(readLock(dir).instanceId).toBe(lock.instanceId);

    const held = folder();
    writeHolder(held, { pid: reused, namespace: pidNamespaceId(), heartbeatAt: Date.now(), pidStartTime: processStartTime(reused)! });
    const refusedAfter = Date.now();
    await expect(acquire(held)).rejects.toThrow(/is in use by process/);
    expect(Date.now() - refusedAfter).toBeLessThan(STALE_MS / 2);
  });

  it('a holder whose lock was taken over is told at its next refresh', async () => {
    const dir = folder();
    const lostErrors: Error[] = [];
    await acquire(dir, (error) => lostErrors.push(error));
    writeHolder(dir, { pid: DEAD_PID, namespace: OTHER_NAMESPACE, heartbeatAt: Date.now(), instanceId: 'usurper' });
    const deadline = Date.now() + 10_000;
    while (lostErrors.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lostErrors).toHaveLength(1);
    expect(lostErrors[0]!.message).toMatch(/lock was lost \(process \d+ on elsewhere took it over\)/);
    // It leaves the usurper's lock alone.
    expect(readLock(dir).instanceId).toBe('usurper');
  });

  it('of processes racing for a stale lock, exactly one wins and the others are refused', async () => {
    const dir = folder();
    writeHolder(dir, { pid: DEAD_PID, namespace: OTHER_NAMESPACE, heartbeatAt: Date.now() - 3_600_000 });
    const contenders = Array.from({ length: 4 }, () =>
      runNode(['--import', 'tsx', path.join(REPO_ROOT, 'test/storage/lock-contender.ts'), dir, String(STALE_MS)]),
    );
    try {
      const outcomes = await Promise.all(contenders.map((contender) => contender.waitFor(/^(won|refused)/m, 60_000)));
      const winners = outcomes.filter((match) => match[1] === 'won');
      expect(winners).toHaveLength(1);
      const winner = contenders[outcomes.findIndex((match) => match[1] === 'won')]!;
      expect(winner.output()).toContain(readLock(dir).instanceId);
      for (const [index, contender] of contenders.entries()) {
        if (contender !== winner) {
          expect(await contender.exited, contender.output()).toBe(3);
          expect(contender.output(), String(index)).toMatch(/is in use by process \d+/);
        }
      }
    } finally {
      await Promise.all(contenders.map((contender) => contender.kill('SIGKILL')));
    }
  });
});

describe('DATA_DIR lock between server processes', () => {
  const group = serverGroup();
  afterAll(() => group.cleanup());

  it('refuses a second server on the folder, and a crashed server (kill -9) is replaced without manual steps', async () => {
    const dataDir = copyPgliteTemplate();
    group.removeLater(dataDir);
    const env = { DATA_DIR: dataDir, DATABASE_URL: '', SWITCHBOARD_DATA_DIR_LOCK_STALE: `${STALE_MS}ms` };
    const first = group.serve(env);
    await first.waitFor(/is running on PGlite/, 60_000);

    const second = group.serve(env);
    expect(await second.exited).not.toBe(0);
    expect(second.output()).toMatch(/is in use by process \d+/);

    await first.kill('SIGKILL');
    const third = group.serve(env);
    await third.waitFor(/is running on PGlite/, 60_000);
  }, 240_000);

  it('a server in another namespace holding the folder is waited out once its heartbeat stops, and a server whose lock is taken stops', async () => {
    const dataDir = copyPgliteTemplate();
    group.removeLater(dataDir);
    const heartbeatAt = Date.now();
    writeHolder(dataDir, { pid: DEAD_PID, namespace: OTHER_NAMESPACE, heartbeatAt });
    const env = { DATA_DIR: dataDir, DATABASE_URL: '', SWITCHBOARD_DATA_DIR_LOCK_STALE: `${STALE_MS}ms` };
    const server = group.serve(env);
    await server.waitFor(/is running on PGlite/, 60_000);
    expect(Date.now() - heartbeatAt).toBeGreaterThanOrEqual(STALE_MS);

    // Another container takes the folder (as if this server had stalled past the stale time): it stops.
    writeHolder(dataDir, { pid: DEAD_PID, namespace: OTHER_NAMESPACE, heartbeatAt: Date.now(), instanceId: 'usurper' });
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/lock was lost/);
    expect(readLock(dataDir).instanceId).toBe('usurper');
  }, 180_000);
});
