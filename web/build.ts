import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Builds the UI into web/dist. With `ifStale`, only when web/dist is missing or older than any source.
 * The build goes to a temporary folder that replaces web/dist in one rename, so a running server never
 * serves half a build.
 */

const WEB_DIR = path.dirname(fileURLToPath(import.meta.url));
const DIST_DIR = path.join(WEB_DIR, 'dist');
// The UI also bundles the pure domain modules it shares with the server (e.g. the field types).
const SOURCES = [path.join(WEB_DIR, 'index.html'), path.join(WEB_DIR, 'vite.config.ts'), path.join(WEB_DIR, 'src'), path.join(WEB_DIR, '..', 'src', 'domain')];

function newestMtime(target: string): number {
  const stat = fs.statSync(target, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

export function webBuildIsStale(): boolean {
  const built = fs.statSync(path.join(DIST_DIR, 'index.html'), { throwIfNoEntry: false });
  if (!built) return true;
  return SOURCES.some((source) => newestMtime(source) > built.mtimeMs);
}

export async function buildWeb(options: { ifStale?: boolean } = {}): Promise<{ built: boolean; ms: number }> {
  const started = performance.now();
  if (options.ifStale && !webBuildIsStale()) return { built: false, ms: performance.now() - started };
  const { build } = await import('vite');
  const staging = `${DIST_DIR}.building-${process.pid}-${Date.now()}`;
  try {
    await build({
      configFile: path.join(WEB_DIR, 'vite.config.ts'),
      build: { outDir: staging, emptyOutDir: true },
    });
    // Two builds may finish together (npm start while tests run): the last rename wins.
    for (let attempt = 0; ; attempt++) {
      fs.rmSync(DIST_DIR, { recursive: true, force: true });
      try {
        fs.renameSync(staging, DIST_DIR);
        break;
      } catch (error) {
        if (attempt >= 3 || !['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
      }
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return { built: true, ms: performance.now() - started };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ifStale = process.argv.includes('--if-stale');
  try {
    const { built, ms } = await buildWeb({ ifStale });
    if (built) process.stdout.write(`Built the web UI into web/dist in ${(ms / 1000).toFixed(1)} s.\n`);
  } catch (error) {
    process.stderr.write(`Could not build the web UI: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
