import { parseArgs } from 'node:util';
import { loadConfig, privateTargetsNotice, type Role } from '../config.ts';
import { createProcessLogger } from '../logger.ts';
import { migrateToLatest } from '../storage/migrate.ts';
import { openConfiguredDatabase, startSwitchboard } from '../server.ts';
import { createServices } from '../services.ts';
import { systemClock } from '../domain/clock.ts';
import { runApiKeyRequest, type ApiKeyAnswer, type ApiKeyRequest, type ApiKeySummary } from '../local-admin/api-key-commands.ts';
import { askLocalAdmin } from '../local-admin/channel.ts';

const USAGE = `Usage: switchboard <command> [options]

Commands:
  serve [--role all|api|worker] [--port N] [--host H]   run the server (default role: all)
  migrate                                               apply database migrations and exit
  apikey create [--workspace NAME] [--name LABEL]       print a new API key (creates the workspace if needed)
  apikey list [--workspace NAME]                        list a workspace's keys (id, prefix, name, dates)
  apikey revoke <id|prefix> [--workspace NAME]          revoke a key: it answers 401 from then on
                                                        (all three work while a server runs: see README.md)
  move --to postgres://… [--from DATA_DIR]              copy the embedded database into a new, empty
                                                        PostgreSQL database (stop the server first;
                                                        also spelled move-to-postgres)
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

function formatKeys(keys: ApiKeySummary[]): string {
  if (keys.length === 0) return 'No API keys.\n';
  const rows = [
    ['ID', 'PREFIX', 'NAME', 'CREATED', 'LAST USED', 'REVOKED'],
    ...keys.map((key) => [key.id, key.prefix, key.name || '-', key.createdAt, key.lastUsedAt ?? '-', key.revokedAt ?? '-']),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** Over the running server's socket when one holds the embedded database, else on the database directly. */
async function runApiKeyCommand(request: ApiKeyRequest): Promise<ApiKeyAnswer> {
  const config = loadConfig();
  if (!config.databaseUrl) {
    const answer = await askLocalAdmin(config.dataDir, request);
    if (answer) return answer;
  }
  const logger = createProcessLogger(config);
  const database = await openConfiguredDatabase(config, logger);
  try {
    await migrateToLatest(database.db);
    const services = createServices({ database, config, clock: systemClock, logger });
    return await runApiKeyRequest(services.workspaces, request);
  } finally {
    await database.close();
  }
}

const APIKEY_USAGE = 'use: apikey create [--workspace NAME] [--name LABEL], apikey list [--workspace NAME], apikey revoke <id|prefix> [--workspace NAME]';

const apikey: Handler = async (args) => {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: sub === 'revoke',
    options: { workspace: { type: 'string', default: 'default' }, name: { type: 'string', default: '' } },
  });
  const workspace = values.workspace!;
  if (sub === 'create') {
    const answer = await runApiKeyCommand({ command: 'create', workspace, name: values.name! });
    if (answer.command === 'create') process.stdout.write(`${answer.key}\n`);
  } else if (sub === 'list') {
    const answer = await runApiKeyCommand({ command: 'list', workspace });
    if (answer.command === 'list') process.stdout.write(formatKeys(answer.apiKeys));
  } else if (sub === 'revoke') {
    if (positionals.length !== 1) fail(`apikey revoke: give one key id or prefix (${APIKEY_USAGE})`);
    const answer = await runApiKeyCommand({ command: 'revoke', workspace, key: positionals[0]! });
    if (answer.command === 'revoke') process.stdout.write(`Revoked ${answer.apiKey.prefix}… (${answer.apiKey.id}) of workspace "${workspace}".\n`);
  } else {
    fail(`apikey: unknown subcommand "${sub ?? ''}" (${APIKEY_USAGE})`);
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

const moveToPostgres: Handler = async (args) => {
  const { values } = parseArgs({ args, options: { to: { type: 'string' }, from: { type: 'string' } } });
  const target = values.to ?? fail('move: give the target with --to postgres://… (a new, empty database)');
  if (!/^postgres(ql)?:\/\//.test(target)) fail(`move: --to "${target}" must start with postgres:// or postgresql://`);
  const config = loadConfig({ ...process.env, DATABASE_URL: '', ...(values.from ? { DATA_DIR: values.from } : {}) });
  const logger = createProcessLogger(config);
  const { moveDatabase } = await import('../storage/move.ts');
  // Opening the folder takes its lock: a running server must be stopped first, so nothing changes during the copy.
  const source = await openConfiguredDatabase(config, logger);
  try {
    const destination = await openConfiguredDatabase({ ...config, databaseUrl: target }, logger);
    try {
      process.stdout.write(`Moving the embedded database in ${config.dataDir} to ${redactPassword(target)}\n`);
      const live = process.stderr.isTTY === true;
      const moved = await moveDatabase(source, destination, {
        onProgress: ({ table, copied, total }) => {
          if (live) process.stderr.write(`\r\x1b[K${table}: ${copied} of ${total} rows`);
          else if (copied === total) process.stderr.write(`${table}: ${copied} of ${total} rows\n`);
        },
      });
      if (live) process.stderr.write('\r\x1b[K');
      const width = Math.max(...moved.map((table) => table.table.length));
      for (const table of moved) process.stdout.write(`  ${table.table.padEnd(width)}  ${String(table.rows).padStart(9)} rows  checksum ok\n`);
      process.stdout.write(
        `Done: ${moved.reduce((sum, table) => sum + table.rows, 0)} rows in ${moved.length} tables, counts and checksums match.\n` +
          `Start the server on it with DATABASE_URL=${redactPassword(target)} (and the same SWITCHBOARD_ENCRYPTION_KEY, if set).\n` +
          `The folder ${config.dataDir} is unchanged: remove it once the new server runs.\n`,
      );
    } finally {
      await destination.close();
    }
  } finally {
    await source.close();
  }
};

function redactPassword(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*):[^@]*@/, '$1:***@');
}

const commands: Record<string, Handler> = {
  move: moveToPostgres,
  'move-to-postgres': moveToPostgres,
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
