// `npm run bench`: every scenario against a fresh database (PostgreSQL when DATABASE_URL is set, else PGlite),
// a table on stdout and in BENCHMARKS.md. `--only=1,3` runs some scenarios; `--smoke` runs tiny sizes.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from '../src/storage/database.ts';
import { createBenchDatabase, FULL_SCALE, now, Sink, SMOKE_SCALE, type Figure, type Scale } from './harness.ts';
import { markdownTable, resultsSection, writeResults } from './report.ts';
import { backlog } from './scenarios/backlog.ts';
import { customObjects } from './scenarios/custom-objects.ts';
import { fanOut } from './scenarios/fan-out.ts';
import { isolation } from './scenarios/isolation.ts';
import { latency } from './scenarios/latency.ts';
import { scaling } from './scenarios/scaling.ts';
import { throughput } from './scenarios/throughput.ts';
import { writePath } from './scenarios/write-path.ts';

/** databaseUrl: PostgreSQL only, for a scenario that runs a process of its own against the same database. */
type Scenario = (database: Database, sink: Sink, scale: Scale, databaseUrl?: string) => Promise<Figure[]>;

export const SCENARIOS: Array<[string, Scenario]> = [
  ['1', throughput],
  ['2', latency],
  ['3', fanOut],
  ['4', isolation],
  ['5', backlog],
  ['6', writePath],
  ['7', customObjects],
  ['8', scaling],
];

export interface BenchOptions {
  databaseUrl: string | undefined;
  scale: Scale;
  only?: string[];
  /** Called after each scenario (progress on stderr). */
  onFigures?: (figures: Figure[]) => void;
}

export async function runBench(options: BenchOptions): Promise<{ kind: string; figures: Figure[] }> {
  const bench = await createBenchDatabase(options.databaseUrl);
  const sink = await Sink.start();
  const figures: Figure[] = [];
  try {
    for (const [id, scenario] of SCENARIOS) {
      if (options.only && !options.only.includes(id)) continue;
      const found = await scenario(bench.database, sink, options.scale, bench.url);
      figures.push(...found);
      options.onFigures?.(found);
    }
  } finally {
    sink.stop();
    await bench.dispose();
  }
  return { kind: bench.kind, figures };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const only = args.find((arg) => arg.startsWith('--only='))?.slice('--only='.length).split(',');
  const smoke = args.includes('--smoke');
  const started = now();
  const { kind, figures } = await runBench({
    databaseUrl: process.env.DATABASE_URL || undefined,
    scale: smoke ? SMOKE_SCALE : FULL_SCALE,
    only,
    onFigures: (found) => process.stderr.write(`${markdownTable(found).split('\n').slice(2).join('\n')}\n`),
  });
  const seconds = (now() - started) / 1000;
  console.log(markdownTable(figures));
  console.log(`\n${kind}, ${seconds.toFixed(0)} s`);
  if (!smoke && !only) {
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'BENCHMARKS.md');
    const database = kind === 'postgres' ? 'PostgreSQL' : 'PGlite';
    writeResults(
      file,
      kind,
      resultsSection({ command: `${kind === 'postgres' ? 'DATABASE_URL=… ' : ''}npm run bench`, date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC', database, seconds }, figures),
    );
    console.log(`written to ${path.relative(process.cwd(), file)}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
