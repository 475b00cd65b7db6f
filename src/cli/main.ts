import { parseArgs } from 'node:util';
import { loadConfig, privateTargetsNotice, type Role } from '../config.ts';
import { createProcessLogger } from '../logger.ts';
import { migrateToLatest } from '../storage/migrate.ts';
import { openConfiguredDatabase, startSwitchboard } from '../server.ts';
import { createServices } from '../services.ts';
import { systemClock } from '../domain/clock.ts';

const USAGE = `Usage: switchboard <command> [options]

Commands:
  serve [--role all|api|worker] [--port N] [--host H]   run the server (default role: all)
  migrate                                               apply database migrations and exit
  apikey create [--workspace NAME] [--name LABEL]       print a new API key
  secrets reseal [--new-key KEY]                        seal every stored webhook secret under a new key
                                                        (generated when not given; stop every server first)
  listen [--port 4000] [--secret S] [--forward URL] [--fail-rate R]
                                                        local receiver that verifies and prints webhooks

Configuration comes from environment variables: see README.md.`;

type Handler = (args: string[]) => Promise<void>;

function fail(message: string): never {
  process.stderr.write(`switchboard: ${message}\n`);
  process.exit(2);
}

const serve: Handler = async (args) => {
  const { values } = parseArgs({
    args,
    options: { role: { type: 'string', default: 'all' }, port: { type: 'string' }, host: { type: 'string' } },
  });
  const role = values.role as Role;
  if (!['all', 'api', 'worker'].includes(role)) fail(`--role must be all, api or worker (got "${values.role}")`);
  const config = loadConfig({ ...process.env, ...(values.port ? { PORT: values.port } : {}), ...(values.host ? { HOST: values.host } : {}) });
  const logger = createProcessLogger(config);
  const running = await startSwitchboard({
    config,
    role,
    logger,
    onFatal: (error) => {
      process.stderr.write(`switchboard: ${error.message}\n`);
      process.exit(1);
    },
  });
  const database = config.databaseUrl ? 'PostgreSQL' : `PGlite in ${config.dataDir}`;
  const lines = [`Switchboard ${role === 'all' ? '' : `(${role}) `}is running on ${database}.`];
  if (running.url) lines.push(`UI:      ${running.url}/`, `GraphQL: ${running.url}/graphql`);
  const notice = privateTargetsNotice(config);
  if (notice) lines.push(notice);
  if (running.bootstrap.newApiKey) {
    lines.push(`Created workspace "default". Its API key (shown once, keep it):`, `  ${running.bootstrap.newApiKey}`);
  } else if (running.bootstrap.configuredKey) {
    lines.push('The API key from SWITCHBOARD_API_KEY is active for workspace "default".');
  }
  process.stdout.write(`${lines.join('\n')}\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
};

const migrate: Handler = async () => {
  const config = loadConfig();
  const logger = createProcessLogger(config);
  const database = await openConfiguredDatabase(config, logger);
  try {
    const applied = await migrateToLatest(database.db);
    process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'The database is up to date.\n');
  } finally {
    await database.close();
  }
};

const apikey: Handler = async (args) => {
  const [sub, ...rest] = args;
  if (sub !== 'create') fail(`apikey: unknown subcommand "${sub ?? ''}" (use: apikey create [--workspace NAME])`);
  const { values } = parseArgs({
    args: rest,
    options: { workspace: { type: 'string', default: 'default' }, name: { type: 'string', default: '' } },
  });
  const config = loadConfig();
  const logger = createProcessLogger(config);
  const database = await openConfiguredDatabase(config, logger);
  try {
    await migrateToLatest(database.db);
    const services = createServices({ database, config, clock: systemClock, logger });
    const { workspace } = await services.workspaces.ensureWorkspace(values.workspace!);
    const created = await services.workspaces.createApiKey(workspace.id, values.name);
    process.stdout.write(`${created.key}\n`);
  } finally {
    await database.close();
  }
};

const secrets: Handler = async (args) => {
  const [sub, ...rest] = args;
  if (sub !== 'reseal') fail(`secrets: unknown subcommand "${sub ?? ''}" (use: secrets reseal [--new-key KEY])`);
  const { values } = parseArgs({ args: rest, options: { 'new-key': { type: 'string' } } });
  const config = loadConfig();
  const logger = createProcessLogger(config);
  const database = await openConfiguredDatabase(config, logger);
  try {
    await migrateToLatest(database.db);
    const { resealWithNewKey } = await import('./secrets.ts');
    const outcome = await resealWithNewKey(config, database, values['new-key'] ?? (process.env.SWITCHBOARD_NEW_ENCRYPTION_KEY || undefined));
    process.stdout.write(`${outcome.message}\n`);
  } finally {
    await database.close();
  }
};

const commands: Record<string, Handler> = {
  serve,
  migrate,
  apikey,
  secrets,
  listen: async (args) => (await import('./listen.ts')).runListen(args),
};

const [command, ...args] = process.argv.slice(2);
if (!command || command === '--help' || command === '-h' || command === 'help') {
  process.stdout.write(`${USAGE}\n`);
  process.exit(command ? 0 : 2);
}
const handler = commands[command] ?? fail(`unknown command "${command}"\n\n${USAGE}`);
try {
  await handler(args);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
