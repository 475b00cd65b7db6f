import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const LOCK_FILE = 'switchboard.lock';
/** Held for the few file operations of one take-over or refresh, so two of them never interleave. */
const GUARD_FILE = 'switchboard.lock.guard';
/** A guard older than this was left by a process that died inside those few operations. */
const GUARD_STALE_MS = 5_000;
export const DEFAULT_LOCK_STALE_MS = 15_000;

/** What the lock file says about its holder. */
interface LockRecord {
  instanceId: string;
  pid: number;
  /** Boot id and PID namespace: equal only for processes whose PIDs mean the same thing. */
  namespace: string | null;
  hostname: string;
  /** The holder's start time in clock ticks since boot (/proc/<pid>/stat): tells it from a later process given its PID. */
  pidStartTime: string | null;
  startedAt: string;
  /** Milliseconds since the epoch of the holder's last refresh. */
  heartbeatAt: number;
}

export interface DataDirLockOptions {
  /** A holder whose heartbeat is older than this is taken to be gone (it refreshes three times as often). */
  staleMs?: number;
  /** Called once if another process took the lock (this one stalled longer than staleMs): stop writing now. */
  onLost?: (error: Error) => void;
}

export interface DataDirLock {
  readonly instanceId: string;
  release(): void;
}

function readOrNull(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * Where PIDs mean the same thing: the same boot (boot_id is per kernel, so per machine) and the same PID
 * namespace. Two containers on one host differ in the namespace; two hosts sharing a folder differ in the boot.
 */
export function pidNamespaceId(): string | null {
  try {
    const bootId = readOrNull('/proc/sys/kernel/random/boot_id');
    const namespace = fs.readlinkSync('/proc/self/ns/pid');
    return bootId ? `${bootId}/${namespace}` : null;
  } catch {
    return null;
  }
}

/** Field 22 of /proc/<pid>/stat, or null where there is no /proc or no such process. */
export function processStartTime(pid: number): string | null {
  const stat = readOrNull(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces and parentheses: count fields from its closing one.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields?.[19] ?? null;
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseRecord(text: string): LockRecord | { legacyPid: number } | null {
  if (/^\d+$/.test(text)) return { legacyPid: Number(text) };
  try {
    const record = JSON.parse(text) as Partial<LockRecord>;
    if (typeof record.instanceId === 'string' && typeof record.pid === 'number' && typeof record.heartbeatAt === 'number') {
      return record as LockRecord;
    }
  } catch {
    // Unreadable: treated below as a lock nobody holds.
  }
  return null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Takes the DATA_DIR lock, a lease: the holder names itself with a random instance id and refreshes a
 * heartbeat in the lock file every staleMs/3. PGlite does not stop a second process from opening the same
 * folder, and a second writer silently loses rows, so only one process may hold it, whatever PID namespace
 * (container) each runs in; a PID alone cannot tell, since the same number is another process elsewhere.
 *
 * A holder provably in this PID namespace is judged at once: alive if its PID runs with the start time it
 * recorded (refused), gone if the PID is dead or now another process's (taken over). Otherwise (another
 * container) the starter watches the heartbeat: one that moves means a live holder (refused); one that stays
 * older than staleMs means a crashed holder (taken over, no manual step). Every change to the lock file is a whole file renamed
 * into place while holding an O_EXCL guard file, so two starters, or a starter and a refresh, never interleave.
 */
export async function acquireDataDirLock(dataDir: string, options: DataDirLockOptions = {}): Promise<DataDirLock> {
  const staleMs = options.staleMs ?? DEFAULT_LOCK_STALE_MS;
  const refreshMs = Math.max(10, Math.floor(staleMs / 3));
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lockPath = path.join(dataDir, LOCK_FILE);
  const guardPath = path.join(dataDir, GUARD_FILE);
  const instanceId = randomUUID();
  const namespace = pidNamespaceId();
  const pidStartTime = processStartTime(process.pid);
  const startedAt = new Date().toISOString();

  const write = () => {
    const record: LockRecord = { instanceId, pid: process.pid, namespace, hostname: os.hostname(), pidStartTime, startedAt, heartbeatAt: Date.now() };
    const temporary = `${lockPath}.${instanceId}.tmp`;
    fs.writeFileSync(temporary, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    fs.renameSync(temporary, lockPath);
  };

  /** Runs fn holding the guard; undefined when another process holds it right now. */
  const guarded = <T>(fn: () => T): T | undefined => {
    let descriptor: number;
    try {
      descriptor = fs.openSync(guardPath, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      try {
        if (Date.now() - fs.statSync(guardPath).mtimeMs > GUARD_STALE_MS) fs.rmSync(guardPath, { force: true });
      } catch {
        // Gone in between: the next try takes it.
      }
      return undefined;
    }
    try {
      return fn();
    } finally {
      fs.closeSync(descriptor);
      fs.rmSync(guardPath, { force: true });
    }
  };

  /** proven: the holder is known to be alive (no need to watch its heartbeat). */
  type Verdict = { take: true } | { take: false; holder: string; heartbeat: number | null; proven: boolean };
  const judge = (): Verdict => {
    const text = readOrNull(lockPath);
    const record = text === null ? null : parseRecord(text);
    if (record === null) return { take: true };
    if ('legacyPid' in record) {
      // Written by an older version, which had no heartbeat: its PID is all there is to go by.
      const alive = record.legacyPid !== process.pid && processIsAlive(record.legacyPid);
      return alive ? { take: false, holder: `process ${record.legacyPid}`, heartbeat: null, proven: true } : { take: true };
    }
    const holder = `process ${record.pid} on ${record.hostname} (instance ${record.instanceId})`;
    const sameNamespace = record.namespace !== null && record.namespace === namespace;
    if (sameNamespace) {
      if (record.pid === process.pid || !processIsAlive(record.pid)) return { take: true };
      const startTime = processStartTime(record.pid);
      if (record.pidStartTime && startTime) {
        // The same PID and start time is the holder itself; another start time is a later process given its PID.
        return startTime === record.pidStartTime ? { take: false, holder, heartbeat: record.heartbeatAt, proven: true } : { take: true };
      }
    }
    if (Date.now() - record.heartbeatAt > staleMs) return { take: true };
    return { take: false, holder, heartbeat: record.heartbeatAt, proven: false };
  };

  const deadline = Date.now() + staleMs + refreshMs;
  let firstHeartbeat: number | null | undefined;
  for (;;) {
    const verdict = guarded(() => {
      const found = judge();
      if (found.take) write();
      return found;
    });
    if (verdict?.take) break;
    if (verdict) {
      firstHeartbeat ??= verdict.heartbeat;
      // A heartbeat that moved while we watched: the holder is alive. Past the deadline, one that did not move
      // would have been judged stale, so reaching it means the holder's clock runs ahead of ours.
      if (verdict.proven || verdict.heartbeat !== firstHeartbeat || Date.now() > deadline) {
        throw new Error(
          `DATA_DIR ${dataDir} is in use by ${verdict.holder}: the embedded database allows one process at a time. ` +
            'Stop that process, use another DATA_DIR, or set DATABASE_URL to share a PostgreSQL server.' +
            (verdict.heartbeat === null ? ` If no Switchboard runs on this folder, remove ${lockPath}.` : ''),
        );
      }
    }
    await sleep(verdict ? Math.min(refreshMs, 200) : 5 + Math.random() * 20);
  }

  let released = false;
  const lost = (reason: string) => {
    if (released) return;
    released = true;
    clearInterval(timer);
    options.onLost?.(new Error(`DATA_DIR ${dataDir}: the lock was lost (${reason}); this process must stop writing to it`));
  };
  const timer = setInterval(() => {
    try {
      guarded(() => {
        const text = readOrNull(lockPath);
        const record = text === null ? null : parseRecord(text);
        if (!record || !('instanceId' in record)) return lost(text === null ? 'the lock file was removed' : 'the lock file was replaced');
        if (record.instanceId !== instanceId) return lost(`process ${record.pid} on ${record.hostname} took it over`);
        write();
      });
    } catch (error) {
      lost(`refreshing it failed: ${(error as Error).message}`);
    }
  }, refreshMs);
  timer.unref();

  return {
    instanceId,
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      const removeIfOurs = () => {
        const text = readOrNull(lockPath);
        const record = text === null ? null : parseRecord(text);
        if (record && 'instanceId' in record && record.instanceId === instanceId) fs.rmSync(lockPath, { force: true });
      };
      try {
        // Released on close, which cannot wait: when another process holds the guard, it is judging or taking
        // a lock that is no longer ours to keep, so removing it unguarded is safe.
        if (guarded(() => (removeIfOurs(), true)) === undefined) removeIfOurs();
      } catch {
        // The folder is gone: nothing to release.
      }
    },
  };
}
