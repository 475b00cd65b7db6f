// A process that tries to take a DATA_DIR lock and holds it until killed (test/storage/data-dir-lock.test.ts).
import { acquireDataDirLock } from '../../src/storage/data-dir-lock.ts';

const [dataDir, staleMs] = process.argv.slice(2);
try {
  const lock = await acquireDataDirLock(dataDir!, { staleMs: Number(staleMs) });
  process.stdout.write(`won ${lock.instanceId}\n`);
  setInterval(() => {}, 1_000);
} catch (error) {
  process.stdout.write(`refused: ${(error as Error).message}\n`);
  process.exit(3);
}
