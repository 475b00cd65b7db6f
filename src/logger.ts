import { pino, type DestinationStream, type Logger } from 'pino';

/** Paths that may hold a secret or a whole payload: never written to logs. */
export const REDACTED_PATHS = [
  'secret',
  '*.secret',
  'previousSecret',
  '*.previousSecret',
  'apiKey',
  '*.apiKey',
  'key',
  '*.key',
  'req.headers.authorization',
  'headers.authorization',
  'payload',
  '*.payload',
  'body',
  '*.body',
];

/** The server's logger; tests pass a destination to read what it writes. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
