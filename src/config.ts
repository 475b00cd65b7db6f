import path from 'node:path';
import { parseDuration, parseDurationList } from './domain/duration.ts';

export type Role = 'all' | 'api' | 'worker';

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
  /** How often a worker refreshes its heartbeat; one silent for 4 of these is dead and its leases are released. */
  heartbeatMs: number;
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
    heartbeatMs: parseDuration(env.SWITCHBOARD_HEARTBEAT || '2s', 'SWITCHBOARD_HEARTBEAT'),
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
  };
  // A lease must outlast a queued wait plus one whole attempt, or a slow attempt could be claimed twice.
  config.leaseMs = env.SWITCHBOARD_LEASE
    ? parseDuration(env.SWITCHBOARD_LEASE, 'SWITCHBOARD_LEASE')
    : 2 * config.deliveryTimeoutMs + 30_000;
  if (config.leaseMs < config.deliveryTimeoutMs + 1_000) {
    throw new Error(`SWITCHBOARD_LEASE: must be at least 1s longer than SWITCHBOARD_DELIVERY_TIMEOUT (${config.deliveryTimeoutMs} ms)`);
  }
  if (config.heartbeatMs < 100) throw new Error('SWITCHBOARD_HEARTBEAT: must be at least 100ms');
  return { ...config, ...overrides };
}
