import path from 'node:path';
import { parseByteSize } from './domain/byte-size.ts';
import { parseDuration, parseDurationList } from './domain/duration.ts';

export type Role = 'all' | 'api' | 'worker';

/** What one GraphQL request may ask for (README, GraphQL limits); checked before execution, budgets while resolving. */
export interface GraphQLLimits {
  /** Request body of /graphql (query and variables), in bytes. */
  maxBodyBytes: number;
  /** The query text, in bytes (comments and whitespace are not tokens, so tokens alone do not bound the lexer). */
  maxDocumentBytes: number;
  /** Lexical tokens of the query text; parsing stops at the limit. */
  maxTokens: number;
  /** Field selections written in the document (validation compares selections pairwise). */
  maxFields: number;
  /** Aliased field selections written in the document. */
  maxAliases: number;
  /** Fields at the root of one operation, fragments included. */
  maxRootFields: number;
  /** Nesting of field selections, fragments included; a root field is depth 1. */
  maxDepth: number;
  /** Each field costs 1; a list multiplies what it selects by its page size (`first`) or by listSize. */
  maxCost: number;
  /** Assumed length of a list that takes no `first` argument and has no default page size. */
  listSize: number;
  /** Data read to build one answer, estimated as JSON bytes. */
  maxResponseBytes: number;
  /** Time one request may spend resolving; fields not started by then are refused. */
  timeoutMs: number;
}

/** The environment variable that sets each GraphQL limit: error messages name it so a refused caller knows what to change. */
export const GRAPHQL_LIMIT_VARIABLES: Record<keyof GraphQLLimits, string> = {
  maxBodyBytes: 'SWITCHBOARD_GRAPHQL_MAX_BODY',
  maxDocumentBytes: 'SWITCHBOARD_GRAPHQL_MAX_DOCUMENT',
  maxTokens: 'SWITCHBOARD_GRAPHQL_MAX_TOKENS',
  maxFields: 'SWITCHBOARD_GRAPHQL_MAX_FIELDS',
  maxAliases: 'SWITCHBOARD_GRAPHQL_MAX_ALIASES',
  maxRootFields: 'SWITCHBOARD_GRAPHQL_MAX_ROOT_FIELDS',
  maxDepth: 'SWITCHBOARD_GRAPHQL_MAX_DEPTH',
  maxCost: 'SWITCHBOARD_GRAPHQL_MAX_COST',
  listSize: 'SWITCHBOARD_GRAPHQL_LIST_SIZE',
  maxResponseBytes: 'SWITCHBOARD_GRAPHQL_MAX_RESPONSE',
  timeoutMs: 'SWITCHBOARD_GRAPHQL_TIMEOUT',
};

export const DEFAULT_GRAPHQL_LIMITS: Readonly<GraphQLLimits> = {
  // A batch of 500 records of a few KiB each, or one record at the 1 MiB event limit, fits.
  maxBodyBytes: 4 * 1024 * 1024,
  maxDocumentBytes: 256 * 1024,
  // An inline batch of 500 records of every field is about 13,000 tokens.
  maxTokens: 20_000,
  maxFields: 1_000,
  maxAliases: 50,
  maxRootFields: 50,
  // The standard introspection query (GraphQL tools) is depth 15 and costs about 52,000; the UI's documents at most 6 and 6,000.
  maxDepth: 15,
  maxCost: 100_000,
  listSize: 10,
  maxResponseBytes: 32 * 1024 * 1024,
  timeoutMs: 15_000,
};

export interface Config {
  host: string;
  port: number;
  /** postgres://… selects PostgreSQL; undefined selects PGlite in dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  apiKey: string | undefined;
  encryptionKey: string | undefined;
  retryScheduleMs: number[];
  deliveryTimeoutMs: number;
  /** How long a claimed delivery stays reserved for its worker; then another worker may claim it (crash recovery). */
  leaseMs: number;
  /** Requests in flight per worker process, overall and per endpoint (webhook). */
  maxInFlight: number;
  maxInFlightPerEndpoint: number;
  allowPrivateTargets: boolean;
  production: boolean;
  /** A webhook whose deliveries have all failed for this long is disabled. */
  disableAfterMs: number;
  /** Delivered events and attempts older than this are removed. */
  retentionMs: number;
  logLevel: string;
  graphql: GraphQLLimits;
}

type Env = Record<string, string | undefined>;

function parseBoolean(value: string, name: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new Error(`${name}: "${value}" is not a boolean (use true or false)`);
}

function parsePositiveInteger(value: string, name: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new Error(`${name}: "${value}" is not a positive integer`);
  return number;
}

function parsePort(value: string, name: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name}: "${value}" is not a port number`);
  return port;
}

function loadGraphQLLimits(env: Env): GraphQLLimits {
  const limits: GraphQLLimits = { ...DEFAULT_GRAPHQL_LIMITS };
  for (const key of Object.keys(GRAPHQL_LIMIT_VARIABLES) as Array<keyof GraphQLLimits>) {
    const name = GRAPHQL_LIMIT_VARIABLES[key];
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (key === 'timeoutMs') limits[key] = parseDuration(value, name);
    else if (key.endsWith('Bytes')) limits[key] = parseByteSize(value, name);
    else limits[key] = parsePositiveInteger(value, name);
  }
  if (limits.timeoutMs < 1) throw new Error(`${GRAPHQL_LIMIT_VARIABLES.timeoutMs}: must be at least 1ms`);
  return limits;
}

/** Reads the configuration from environment variables (CONTRACT.md section 1); throws naming the bad variable. */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const production = env.NODE_ENV === 'production';
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error(`DATABASE_URL: "${databaseUrl}" must start with postgres:// or postgresql://`);
  }
  const config: Config = {
    host: env.HOST || '127.0.0.1',
    port: parsePort(env.PORT || '3000', 'PORT'),
    databaseUrl,
    dataDir: path.resolve(env.DATA_DIR || './data'),
    apiKey: env.SWITCHBOARD_API_KEY || undefined,
    encryptionKey: env.SWITCHBOARD_ENCRYPTION_KEY || undefined,
    retryScheduleMs: parseDurationList(env.SWITCHBOARD_RETRY_SCHEDULE || '1m,5m,15m,1h,6h', 'SWITCHBOARD_RETRY_SCHEDULE'),
    deliveryTimeoutMs: parseDuration(env.SWITCHBOARD_DELIVERY_TIMEOUT || '30s', 'SWITCHBOARD_DELIVERY_TIMEOUT'),
    leaseMs: 0, // set below: its default depends on the timeout
    maxInFlight: parsePositiveInteger(env.SWITCHBOARD_MAX_IN_FLIGHT || '1024', 'SWITCHBOARD_MAX_IN_FLIGHT'),
    maxInFlightPerEndpoint: parsePositiveInteger(
      env.SWITCHBOARD_MAX_IN_FLIGHT_PER_ENDPOINT || '32',
      'SWITCHBOARD_MAX_IN_FLIGHT_PER_ENDPOINT',
    ),
    allowPrivateTargets:
      env.SWITCHBOARD_ALLOW_PRIVATE_TARGETS !== undefined && env.SWITCHBOARD_ALLOW_PRIVATE_TARGETS !== ''
        ? parseBoolean(env.SWITCHBOARD_ALLOW_PRIVATE_TARGETS, 'SWITCHBOARD_ALLOW_PRIVATE_TARGETS')
        : !production,
    production,
    disableAfterMs: parseDuration(env.SWITCHBOARD_DISABLE_AFTER || '5d', 'SWITCHBOARD_DISABLE_AFTER'),
    retentionMs: parseDuration(env.SWITCHBOARD_RETENTION || '30d', 'SWITCHBOARD_RETENTION'),
    logLevel: env.LOG_LEVEL || 'info',
    graphql: loadGraphQLLimits(env),
  };
  // A lease must outlast a queued wait plus one whole attempt, or a slow attempt could be claimed twice.
  config.leaseMs = env.SWITCHBOARD_LEASE
    ? parseDuration(env.SWITCHBOARD_LEASE, 'SWITCHBOARD_LEASE')
    : 2 * config.deliveryTimeoutMs + 30_000;
  if (config.leaseMs < config.deliveryTimeoutMs + 1_000) {
    throw new Error(`SWITCHBOARD_LEASE: must be at least 1s longer than SWITCHBOARD_DELIVERY_TIMEOUT (${config.deliveryTimeoutMs} ms)`);
  }
  return { ...config, ...overrides };
}
